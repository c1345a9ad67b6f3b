"""Thin media tasks: load by id, call one service (STYLE rule 7)."""

from __future__ import annotations

from apps.publishing.assets.services import media_asset_probe


def probe_asset(asset_id: int) -> str:
    """Probe an uploaded asset; a re-delivered task for a probed asset does nothing."""
    return media_asset_probe(asset_id=asset_id)
