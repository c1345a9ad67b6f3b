"""Writes of the connections app, one module per flow (STYLE rule 2)."""
