"""The accounts table's kept counts (apps/common/tallies.py). Their writers are the account's
creation (services/oauth.py) and `lifecycle.account_transition`, the one place a state changes:
each says `ACCOUNTS_BY_STATE.changed()`."""

from __future__ import annotations

from apps.common.tallies import Tally

# (platform, state) → how many accounts, over every client (the admin's health panel).
ACCOUNTS_BY_STATE: Tally[dict[tuple[str, str], int]] = Tally("connections.accounts-by-state")
