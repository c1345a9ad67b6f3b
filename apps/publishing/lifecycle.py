"""The publish-target lifecycle of DESIGN §6 as data, like apps/connections/lifecycle.py.

`target_transition()` is the only code that changes `PublishTarget.state`. It is a conditional
update (`WHERE state = <what the caller saw>`), so a caller that lost a race — a staff member
cancelling while the dispatcher claims the target — changes nothing and learns it
(`StaleTarget`), instead of half-applying its change. Every move is audited (the composer's
services record their own post-level event with before/after instead, `audited=False`), and
entering a problem state queues the account manager's email (ENTRY_TASKS), on commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.common.jobs import enqueue
from apps.publishing.models import CrossPost, PublishTarget, TargetState

NOTIFY_TASK = "apps.publishing.tasks.notify_target_problem"

# from-state -> the states it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    TargetState.SCHEDULED: frozenset(
        {TargetState.DISPATCHED, TargetState.FAILED, TargetState.CANCELLED}
    ),
    TargetState.DISPATCHED: frozenset(
        {
            TargetState.PUBLISHING,
            TargetState.SCHEDULED,  # lease expired before the task started: hand it out again
            TargetState.FAILED,
            TargetState.CANCELLED,
        }
    ),
    TargetState.PUBLISHING: frozenset(
        {
            TargetState.PROCESSING,
            TargetState.PUBLISHED,
            TargetState.RETRY_WAIT,
            TargetState.FAILED,
            TargetState.UNCONFIRMED,
        }
    ),
    TargetState.PROCESSING: frozenset(
        {TargetState.PUBLISHED, TargetState.FAILED, TargetState.UNCONFIRMED}
    ),
    TargetState.RETRY_WAIT: frozenset(
        {TargetState.DISPATCHED, TargetState.FAILED, TargetState.CANCELLED}
    ),
    # A person decides: retry (back to scheduled) or accept the failure.
    TargetState.FAILED: frozenset({TargetState.SCHEDULED}),
    TargetState.UNCONFIRMED: frozenset(
        {TargetState.SCHEDULED, TargetState.PUBLISHED, TargetState.FAILED}
    ),
    TargetState.PUBLISHED: frozenset(),
    TargetState.CANCELLED: frozenset(),
}

# Staff may edit, reschedule or cancel a target until a worker starts publishing it (DESIGN §6).
CHANGEABLE_STATES = frozenset(
    {TargetState.SCHEDULED, TargetState.DISPATCHED, TargetState.RETRY_WAIT}
)
# Work still ahead: an account that stops being able to publish cancels or pauses these.
PENDING_STATES = frozenset({TargetState.SCHEDULED, TargetState.DISPATCHED, TargetState.RETRY_WAIT})
# The platform has (or may have) the video: the target runs to its end without us.
IN_FLIGHT_STATES = frozenset({TargetState.PUBLISHING, TargetState.PROCESSING})
FINAL_STATES = frozenset({TargetState.PUBLISHED, TargetState.CANCELLED})
# Needs a person: shown on the dashboard's recent failures.
PROBLEM_STATES = frozenset({TargetState.FAILED, TargetState.UNCONFIRMED})

# What entering a state queues, on commit, whoever moved the target there: the account manager
# hears once about a post that failed or whose outcome nobody can know (DESIGN §6).
ENTRY_TASKS: dict[str, str] = {state: NOTIFY_TASK for state in PROBLEM_STATES}


class IllegalTargetTransition(Exception):
    def __init__(self, target: PublishTarget, to: str) -> None:
        super().__init__(f"target {target.pk}: {target.state} -> {to} is not a legal transition")


class StaleTarget(Exception):
    """The target left the state the caller saw (another process moved it first)."""

    def __init__(self, target: PublishTarget, expected: str) -> None:
        super().__init__(f"target {target.pk} is no longer {expected}")
        self.target = target
        self.expected = expected


def can_transition(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())


def target_transition(
    *,
    target: PublishTarget,
    to: TargetState | str,
    reason: str = "",
    actor: Any = None,
    audited: bool = True,
    owner: str | None = None,
    **fields: object,
) -> PublishTarget:
    """Move `target` from the state it was read in to `to`, with extra `fields` set in the same
    UPDATE. Raises IllegalTargetTransition, or StaleTarget when the row moved meanwhile — or,
    with `owner`, when that worker run no longer holds the target's lease."""
    to = TargetState(to)
    expected = target.state
    if not can_transition(expected, to):
        raise IllegalTargetTransition(target, to)
    now = timezone.now()
    values = {"state": to, "state_reason": reason[:300], "state_changed_at": now, **fields}
    with transaction.atomic():
        rows = PublishTarget.objects.filter(pk=target.pk, state=expected)
        if owner is not None:
            rows = rows.filter(lease_owner=owner)
        updated = rows.update(**values)
        if not updated:
            raise StaleTarget(target, expected)
        for name, value in values.items():
            setattr(target, name, value)
        if audited:
            audit_record(
                action=AuditAction.TARGET_STATE_CHANGED,
                actor=actor,
                actor_label=None if actor is not None else "system",
                client=target.crosspost.client,
                target=target,
                target_label=f"{target.get_platform_display()} of post {target.crosspost_id}",
                data={"from": expected, "to": str(to), "reason": reason[:300]},
            )
        if to in ENTRY_TASKS:
            enqueue(ENTRY_TASKS[to], target.pk)
    return target


def derive_status(states: Iterable[str], *, draft: bool = False) -> CrossPost.Status:
    """The cross-post's status from its targets' states (DESIGN §6)."""
    states = set(states)
    if draft:
        return CrossPost.Status.DRAFT
    live = states - {TargetState.CANCELLED}
    if not live:
        return CrossPost.Status.CANCELLED
    if live & (PENDING_STATES | IN_FLIGHT_STATES):
        if live & (IN_FLIGHT_STATES | {TargetState.PUBLISHED, TargetState.DISPATCHED}):
            return CrossPost.Status.PUBLISHING
        return CrossPost.Status.SCHEDULED
    if live == {TargetState.PUBLISHED}:
        return CrossPost.Status.PUBLISHED
    if TargetState.PUBLISHED in live:
        return CrossPost.Status.PARTIALLY_PUBLISHED
    return CrossPost.Status.FAILED


def crosspost_refresh_status(crosspost: CrossPost) -> CrossPost.Status:
    """Recompute and store `crosspost.status` from its targets; returns it."""
    status = derive_status(
        crosspost.targets.values_list("state", flat=True), draft=crosspost.is_draft
    )
    if status != crosspost.status:
        CrossPost.objects.filter(pk=crosspost.pk).update(status=status)
        crosspost.status = status
    return status
