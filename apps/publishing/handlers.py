"""What publishing does when connections calls its hooks (apps/connections/hooks.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.connections.hooks import PublishWorkEffect
from apps.publishing.lifecycle import (
    PENDING_STATES,
    StaleTarget,
    crosspost_refresh_status,
    target_transition,
)
from apps.publishing.models import PublishTarget, TargetState

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
    cancelled = 0
    posts = set()
    pending = PublishTarget.objects.filter(linked_account=account, state__in=PENDING_STATES)
    for target in pending.select_related("crosspost__client"):
        try:
            target_transition(
                target=target,
                to=TargetState.CANCELLED,
                reason=f"The account can no longer publish: {reason}",
            )
        except StaleTarget:
            continue  # a worker took it meanwhile: the publish task re-checks the account
        cancelled += 1
        posts.add(target.crosspost)
    for crosspost in posts:
        crosspost_refresh_status(crosspost)
    return cancelled
