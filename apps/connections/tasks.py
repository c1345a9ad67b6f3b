"""Thin background tasks: load by id, call one service (STYLE rule 7).

`sweep` runs every minute from a django-q2 schedule; the database says what is due, so a task
lost by the broker is simply found again on the next sweep.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from apps.common.jobs import enqueue
from apps.connections.models import LinkedAccount, State
from apps.connections.services import disconnect, health, refresh
from apps.connections.services.notify import notify_account_problems

logger = logging.getLogger(__name__)

REVOKE_RETRY_AFTER = timedelta(minutes=5)


def sweep() -> dict[str, int]:
    """Enqueue what is due: refreshes, health checks, platform revokes, expiry notices."""
    counts = {"refresh": 0, "check": 0, "revoke": 0, "notify": 0}
    for account_id in refresh.accounts_due_for_refresh():
        enqueue("apps.connections.tasks.refresh_account", account_id)
        counts["refresh"] += 1
    for account_id in health.accounts_due_for_check():
        # Push the next check forward now so the next sweep doesn't enqueue it twice.
        LinkedAccount.objects.filter(pk=account_id).update(
            next_check_at=timezone.now() + health.check_interval()
        )
        enqueue("apps.connections.tasks.check_account", account_id)
        counts["check"] += 1
    retry_before = timezone.now() - REVOKE_RETRY_AFTER
    for account_id in LinkedAccount.objects.filter(
        state=State.DISCONNECT_PENDING, state_changed_at__lte=retry_before
    ).values_list("pk", flat=True):
        enqueue(disconnect.REVOKE_TASK, account_id)
        counts["revoke"] += 1
    expiring = LinkedAccount.objects.filter(
        state=State.ACTIVE, expiring_notified_at__isnull=True
    ).expiring()
    for account_id in expiring.values_list("pk", flat=True):
        enqueue("apps.connections.tasks.notify", account_id)
        counts["notify"] += 1
    return counts


def refresh_account(account_id: int) -> str:
    return refresh.account_refresh(account_id=account_id)


def check_account(account_id: int) -> str:
    return health.account_check(account_id=account_id)


def revoke_at_platform(account_id: int) -> str:
    return disconnect.account_revoke_at_platform(account_id=account_id)


def notify(account_id: int) -> list[str]:
    return notify_account_problems(account_id=account_id)
