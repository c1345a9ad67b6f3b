"""Thin background tasks: load by id, call one service (STYLE rule 7).

`sweep` runs every minute from a django-q2 schedule; the database says what is due, so a task
lost by the broker is simply found again on the next sweep.
"""

from __future__ import annotations

import logging

from apps.common.jobs import enqueue
from apps.connections.services import disconnect, health, refresh
from apps.connections.services.notify import claim_due_expiry_notices, notify_account_problems

logger = logging.getLogger(__name__)


def sweep() -> dict[str, int]:
    """Enqueue what is due: refreshes, health checks, platform revokes, expiry notices."""
    counts = {"refresh": 0, "check": 0, "revoke": 0, "notify": 0}
    # Each kind of work is claimed by a conditional update before it is enqueued, so a second
    # sweep (another cluster, or the next minute while the queue is backed up) doesn't hand it
    # out again; a claim whose task was lost runs out and the work is handed out anew.
    for account_id in refresh.claim_due_refreshes():
        enqueue("apps.connections.tasks.refresh_account", account_id)
        counts["refresh"] += 1
    for account_id in health.claim_due_checks():
        enqueue("apps.connections.tasks.check_account", account_id)
        counts["check"] += 1
    for account_id in disconnect.claim_due_revokes():
        enqueue(disconnect.REVOKE_TASK, account_id)
        counts["revoke"] += 1
    for account_id in claim_due_expiry_notices():
        enqueue("apps.connections.tasks.notify", account_id)
        counts["notify"] += 1
    return counts


def refresh_account(account_id: int) -> str:
    # Handed out by the sweep only once due and claimed (the claim moved next_refresh_at).
    return str(refresh.account_refresh(account_id=account_id, force=True))


def check_account(account_id: int) -> str:
    return str(health.account_check(account_id=account_id))


def revoke_at_platform(account_id: int) -> str:
    return str(disconnect.account_revoke_at_platform(account_id=account_id))


def notify(account_id: int) -> list[str]:
    return notify_account_problems(account_id=account_id)
