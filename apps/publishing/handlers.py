"""What publishing does when connections calls its hooks (apps/connections/hooks.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from apps.connections.hooks import PublishWorkEffect
from apps.publishing.lifecycle import PENDING_STATES, crosspost_refresh_status
from apps.publishing.models import CrossPost, PublishTarget, TargetState

if TYPE_CHECKING:
    from apps.connections.models import LinkedAccount


def account_blocked(*, account: LinkedAccount, effect: PublishWorkEffect, reason: str) -> int:
    """An account entered a state that blocks publishing (connections' ENTRY_EFFECTS).

    CANCEL: the account is gone or its grant revoked — its pending targets are cancelled.
    PAUSE: a reconnect fixes it — pending targets stay; the dispatcher holds them while the
    account cannot publish, and preflight at the due time explains why. Returns the number of
    targets cancelled. Runs in the transition's transaction.
    """
    if effect != PublishWorkEffect.CANCEL:
        return 0
    pending = PublishTarget.objects.filter(linked_account=account, state__in=PENDING_STATES)
    crosspost_ids = list(pending.values_list("crosspost_id", flat=True).distinct())
    cancelled = pending.update(
        state=TargetState.CANCELLED,
        state_reason=f"The account can no longer publish: {reason}"[:300],
        state_changed_at=timezone.now(),
    )
    for crosspost in CrossPost.objects.filter(pk__in=crosspost_ids):
        crosspost_refresh_status(crosspost)
    return cancelled
