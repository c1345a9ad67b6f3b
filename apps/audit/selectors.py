"""Reads of the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from apps.audit.models import GENESIS_HASH, AuditEvent


@dataclass(frozen=True)
class ChainResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def audit_chain_verify(*, batch_size: int = 5000) -> ChainResult:
    """Walk the chain in id order and report the first event whose link or content is wrong."""
    expected_prev = GENESIS_HASH
    checked = 0
    for event in _iter_events(batch_size):
        if event.prev_hash != expected_prev:
            return ChainResult(
                False, checked, event.id, "prev_hash does not match the event before"
            )
        if event.compute_hash() != event.hash:
            return ChainResult(False, checked, event.id, "content does not match its hash")
        expected_prev = event.hash
        checked += 1
    return ChainResult(True, checked)


def _iter_events(batch_size: int) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id


def audit_events_for_client(*, client: Any) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(client=client).select_related("actor").order_by("-id")


def audit_events_visible_to(user: Any) -> QuerySet[AuditEvent]:
    """Admins: everything. Managers: events of the clients they can see. Others: nothing."""
    from apps.clients.access import scope_to_visible_clients
    from apps.staff.roles import is_admin

    if is_admin(user):
        return AuditEvent.objects.all()
    if getattr(user, "is_authenticated", False) and user.role == "manager":
        return scope_to_visible_clients(AuditEvent.objects.all(), user)
    return AuditEvent.objects.none()


def audit_event_page(
    *,
    user: Any,
    client_id: int | None = None,
    action: str = "",
    text: str = "",
    before_id: int | None = None,
    limit: int = 50,
) -> tuple[list[AuditEvent], int | None]:
    """One page of events, newest first, with keyset pagination (no COUNT over millions of rows).

    Returns the events and the id to pass as `before_id` for the next page (None at the end).
    """
    qs = audit_events_visible_to(user)
    if client_id:
        qs = qs.filter(client_id=client_id)
    if action:
        qs = qs.filter(action=action)
    if text:
        qs = qs.filter(
            Q(actor_label__icontains=text)
            | Q(target_label__icontains=text)
            | Q(client_label__icontains=text)
        )
    if before_id:
        qs = qs.filter(id__lt=before_id)
    events = list(qs.order_by("-id")[: limit + 1])
    next_before = events[limit - 1].id if len(events) > limit else None
    return events[:limit], next_before
