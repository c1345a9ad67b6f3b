"""The connection lifecycle of DESIGN §5 as data: which moves are legal, and what each means.

`account_transition()` is the only code that changes `LinkedAccount.state`; it records the move
(history + audit) in the caller's transaction. An illegal move raises `IllegalTransition`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.common.jobs import enqueue
from apps.connections.models import Capability, LinkedAccount, State, StateChange

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

# Warnings derived from evidence, shown but not states.
STALE_AFTER = timedelta(hours=24)
TIKTOK_REFRESH_WARNING = timedelta(days=14)
# Instagram long-lived tokens live 60 days and can be refreshed after 24 h; we refresh from day
# 1 and must have done so before ~day 50 (PLATFORMS §2.5, §4.1).
INSTAGRAM_EXPIRY_WARNING = timedelta(days=10)

NEEDS_HUMAN = frozenset({State.NEEDS_RECONNECT, State.REVOKED_ON_PLATFORM})


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
) -> bool:
    """Set the publishing capability (independent of the state); True when it changed.

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
    return True


def warnings_for(account: LinkedAccount, *, now: Any = None) -> list[dict[str, str]]:
    """Derived warnings (DESIGN §5): `expiring` with its date, `stale` with the last check."""
    now = now or timezone.now()
    found: list[dict[str, str]] = []
    if account.state in (State.DISCONNECTED, State.DISCONNECT_PENDING):
        return found
    deadline = expiring_deadline(account)
    if deadline is not None:
        found.append(
            {
                "code": "expiring",
                "message": f"A reconnect will be needed before {deadline:%d %b %Y}.",
            }
        )
    last_ok = account.last_ok_at or account.connected_at
    if last_ok and now - last_ok > STALE_AFTER:
        found.append(
            {
                "code": "stale",
                "message": f"No successful check since {last_ok:%d %b %Y %H:%M} UTC.",
            }
        )
    return found


def expiring_deadline(account: LinkedAccount, *, now: Any = None) -> Any:
    """The date a human reconnect becomes unavoidable, when it is close; else None."""
    now = now or timezone.now()
    credential = getattr(account, "credential", None)
    if credential is None:
        return None
    if account.platform == "tiktok":
        end = credential.refresh_expires_at
        if end and end - now <= TIKTOK_REFRESH_WARNING:
            return end
    else:
        end = credential.access_expires_at
        if end and end - now <= INSTAGRAM_EXPIRY_WARNING:
            return end
    return None
