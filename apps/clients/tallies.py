"""The clients table's kept counts (apps/common/tallies.py). Their writer is apps/clients/services:
every service that creates a client or changes its status says `CLIENTS_BY_STATUS.changed()`."""

from __future__ import annotations

from apps.common.tallies import Tally

# Every client's status → how many (the admin dashboard's stats).
CLIENTS_BY_STATUS: Tally[dict[str, int]] = Tally("clients.by-status")
