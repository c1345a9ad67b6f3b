"""The connection lifecycle of DESIGN §5 as data: which moves are legal, and what each means.

`account_transition()` is the only code that changes `LinkedAccount.state`; it records the move
(history + audit) in the caller's transaction. An illegal move raises `IllegalTransition`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.common.jobs import enqueue
from apps.connections import hooks
from apps.connections.hooks import PublishWorkEffect
from apps.connections.models import (
    NEEDS_HUMAN_STATES,
    Capability,
    LinkedAccount,
    State,
    StateChange,
)
from apps.connections.tallies import ACCOUNTS_BY_STATE

NEEDS_HUMAN = NEEDS_HUMAN_STATES

NOTIFY_TASK = "apps.connections.tasks.notify"

# from-state -> the states it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    State.ACTIVE: frozenset(
        {
            State.REFRESH_FAILING,
            State.NEEDS_RECONNECT,
            State.REVOKED_ON_PLATFORM,
            State.DISCONNECT_PENDING,
        }
    ),
    State.REFRESH_FAILING: frozenset(
        {State.ACTIVE, State.NEEDS_RECONNECT, State.REVOKED_ON_PLATFORM, State.DISCONNECT_PENDING}
    ),
    State.NEEDS_RECONNECT: frozenset(
        {State.ACTIVE, State.REVOKED_ON_PLATFORM, State.DISCONNECT_PENDING}
    ),
    State.REVOKED_ON_PLATFORM: frozenset({State.ACTIVE, State.DISCONNECT_PENDING}),
    State.DISCONNECT_PENDING: frozenset({State.DISCONNECTED}),
    State.DISCONNECTED: frozenset(),
}

# The audit code written when an account enters a state (unless the caller names another,
# e.g. connection.reconnected for NEEDS_RECONNECT -> ACTIVE through OAuth).
ENTRY_ACTIONS: dict[str, AuditAction] = {
    State.ACTIVE: AuditAction.CONNECTION_RESTORED,
    State.REFRESH_FAILING: AuditAction.CONNECTION_REFRESH_FAILED,
    State.NEEDS_RECONNECT: AuditAction.CONNECTION_NEEDS_RECONNECT,
    State.REVOKED_ON_PLATFORM: AuditAction.CONNECTION_REVOKED_ON_PLATFORM,
    State.DISCONNECT_PENDING: AuditAction.CONNECTION_DISCONNECT_REQUESTED,
    State.DISCONNECTED: AuditAction.CONNECTION_DISCONNECTED,
}

# What entering a state does to the account's pending publish work (DESIGN §5, §6): every path
# into these states — webhook, disconnect, an auth error met by a check, a refresh or a publish —
# goes through account_transition(), so none can forget it. Cancelled work is over (the account
# is gone or must be authorized anew); paused work waits for a reconnect.
ENTRY_EFFECTS: dict[str, PublishWorkEffect] = {
    State.REVOKED_ON_PLATFORM: PublishWorkEffect.CANCEL,
    State.DISCONNECT_PENDING: PublishWorkEffect.CANCEL,
    State.NEEDS_RECONNECT: PublishWorkEffect.PAUSE,
}


class IllegalTransition(Exception):
    def __init__(self, account: LinkedAccount, to: str) -> None:
        super().__init__(f"{account.label}: {account.state} -> {to} is not a legal transition")
        self.from_state = account.state
        self.to_state = to


def can_transition(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())


@transaction.atomic
def account_transition(
    *,
    account: LinkedAccount,
    to: State | str,
    reason: str,
    actor: Any = None,
    actor_label: str | None = None,
    action: AuditAction | None = None,
    data: dict[str, Any] | None = None,
) -> LinkedAccount:
    """Move `account` to `to`, recording reason and time; raises IllegalTransition."""
    to = State(to)
    if not can_transition(account.state, to):
        raise IllegalTransition(account, to)
    now = timezone.now()
    before = account.state
    account.state = to
    account.state_reason = reason[:300]
    account.state_changed_at = now
    fields = ["state", "state_reason", "state_changed_at"]
    if to == State.DISCONNECTED:
        account.disconnected_at = now
        fields.append("disconnected_at")
    if to == State.ACTIVE:
        account.notified_state = ""
        fields.append("notified_state")
    account.save(update_fields=fields)
    ACCOUNTS_BY_STATE.changed()
    label = actor_label or (actor.label if actor is not None else "system")
    StateChange.objects.create(
        account=account,
        from_state=before,
        to_state=to,
        reason=reason[:300],
        actor_label=label[:255],
        occurred_at=now,
    )
    # Who must hear about it is decided after commit, by the notify task (ids only).
    enqueue(NOTIFY_TASK, account.pk)
    effect = ENTRY_EFFECTS.get(to)
    if effect is not None:
        hooks.publish_work_blocked(account=account, effect=effect, reason=reason)
    audit_record(
        action=action or ENTRY_ACTIONS[to],
        actor=actor,
        actor_label=actor_label,
        client=account.client,
        target=account,
        data={"from": before, "to": str(to), "reason": reason, **(data or {})},
    )
    return account


def account_set_capability(
    *,
    account: LinkedAccount,
    capability: Capability | str,
    reason: str = "",
    until: Any = None,
    code: str = "",
    actor: Any = None,
    actor_label: str | None = "system",
    data: dict[str, Any] | None = None,
) -> bool:
    """Set the publishing capability (independent of the state); True when it changed, and then
    audited in the caller's transaction (`connection.capability_changed`, with `data` added).

    `code` names the evidence behind a problem ("auth:190/459", "quota:9/2207042"); it decides
    what lifts the problem again (apps.connections.services.capability).
    """
    capability = Capability(capability)
    if capability in (Capability.OK, Capability.UNKNOWN):
        code = ""
    if (account.publish_capability, account.capability_reason, account.capability_code) == (
        capability,
        reason[:300],
        code[:100],
    ):
        if account.capability_until != until:
            # The same problem seen again: only its end moves (no new episode, no audit).
            account.capability_until = until
            account.save(update_fields=["capability_until"])
        return False
    before = account.publish_capability
    account.publish_capability = capability
    account.capability_reason = reason[:300]
    account.capability_until = until
    account.capability_code = code[:100]
    account.save(
        update_fields=[
            "publish_capability",
            "capability_reason",
            "capability_until",
            "capability_code",
        ]
    )
    audit_record(
        action=AuditAction.CONNECTION_CAPABILITY_CHANGED,
        actor=actor,
        actor_label=None if actor is not None else actor_label,
        client=account.client,
        target=account,
        data={
            "from": before,
            "to": str(capability),
            "reason": reason,
            **({"evidence": code} if code else {}),
            **(data or {}),
        },
    )
    return True


def warnings_for(account: LinkedAccount, *, now: datetime | None = None) -> list[dict[str, str]]:
    """Derived warnings (DESIGN §5): `expiring` with its date, `stale` with the last check.
    The definitions are the model's (LinkedAccount.expiring_deadline / is_stale), which match
    the queryset filters the lists and the sweep use."""
    now = now or timezone.now()
    found: list[dict[str, str]] = []
    if account.is_closed:
        return found
    deadline = account.expiring_deadline(now=now)
    if deadline is not None:
        found.append(
            {
                "code": "expiring",
                "message": f"A reconnect will be needed before {deadline:%d %b %Y}.",
            }
        )
    if account.is_stale(now=now):
        last_ok = account.last_ok_at or account.connected_at
        found.append(
            {
                "code": "stale",
                "message": f"No successful check since {last_ok:%d %b %Y %H:%M} UTC.",
            }
        )
    return found
