"""Reads of the audit log: who may see what, one event and its place in the chain, an account's
revocation history, the filters' choices. Finding pages of events: apps/audit/search.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from apps.audit.actions import AuditAction
from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.search import ACCOUNT_TARGET

# --- Who sees what -------------------------------------------------------------------------------


def audit_events_visible_to(user: Any) -> QuerySet[AuditEvent]:
    """The log across clients (DESIGN §1): admins everything, managers the events of the clients
    they can see, everyone else nothing. Staff read their clients' timelines instead
    (`audit_events_for_client`, after the client page's own access check)."""
    from apps.clients.access import scope_to_visible_clients
    from apps.staff.roles import can_view_audit, is_admin

    if is_admin(user):
        return AuditEvent.objects.all()
    if can_view_audit(user) and user.is_active:
        return scope_to_visible_clients(AuditEvent.objects.all(), user)
    return AuditEvent.objects.none()


def audit_events_for_client(*, client: Any) -> QuerySet[AuditEvent]:
    """One client's timeline; the caller has checked that the user may see the client."""
    return AuditEvent.objects.filter(client_id=client.pk).order_by("-id")


def audit_events_for_account(*, account: Any) -> QuerySet[AuditEvent]:
    """One linked account's timeline (events whose target is the account); the caller has checked
    that the user may see the account."""
    return AuditEvent.objects.filter(
        target_type=ACCOUNT_TARGET, target_id=str(account.pk), client_id=account.client_id
    ).order_by("-id")


def audit_event_for_view(user: Any, pk: int) -> AuditEvent:
    """One event for its page: admins any; others an event of a client they can see (staff on
    the team included: a client's audit trail is theirs to read, DESIGN §1). 404 otherwise."""
    from django.http import Http404

    from apps.clients.access import scope_to_visible_clients
    from apps.staff.roles import is_admin

    qs: QuerySet[AuditEvent] = AuditEvent.objects.filter(pk=pk)
    if not is_admin(user):
        qs = scope_to_visible_clients(qs.filter(client__isnull=False), user)
    event = qs.first()
    if event is None:
        raise Http404("No such event.")
    return event


# --- One event -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainPosition:
    """Where an event sits in the chain and whether its links hold."""

    content_ok: bool  # the stored hash is the hash of the stored content
    previous_id: int | None
    previous_ok: bool  # prev_hash is the previous event's hash (genesis for the first)
    next_id: int | None
    next_ok: bool | None  # the next event points back at this one (None: no next yet)


def audit_chain_position(event: AuditEvent) -> ChainPosition:
    previous = (
        AuditEvent.objects.filter(id__lt=event.pk).order_by("-id").values_list("id", "hash").first()
    )
    following = (
        AuditEvent.objects.filter(id__gt=event.pk)
        .order_by("id")
        .values_list("id", "prev_hash")
        .first()
    )
    expected_prev = previous[1] if previous else GENESIS_HASH
    return ChainPosition(
        content_ok=event.compute_hash() == event.hash,
        previous_id=previous[0] if previous else None,
        previous_ok=event.prev_hash == expected_prev,
        next_id=following[0] if following else None,
        next_ok=(following[1] == event.hash) if following else None,
    )


# --- Revocation history of an account ------------------------------------------------------------

REVOCATION_ACTIONS = (
    AuditAction.CONNECTION_REVOKED_ON_PLATFORM,
    AuditAction.CONNECTION_DATA_DELETED,
    AuditAction.CONNECTION_DISCONNECT_REQUESTED,
    AuditAction.CONNECTION_DISCONNECTED,
    AuditAction.WEBHOOK_RECEIVED,
    AuditAction.WEBHOOK_REJECTED,
)


@dataclass(frozen=True)
class RevocationHistory:
    """Who ended an account's authorization: the brand on the platform, someone here, or both."""

    events: list[AuditEvent]  # oldest first
    removed_on_platform: AuditEvent | None  # the first platform-side removal
    disconnect_requested: AuditEvent | None  # the first disconnect asked for here
    disconnected: AuditEvent | None  # when it was finished
    platform_side_done: bool | None  # what the disconnect recorded about the platform side

    @property
    def verdict(self) -> str:
        if self.removed_on_platform and self.disconnect_requested:
            first = min((self.removed_on_platform, self.disconnect_requested), key=lambda e: e.pk)
            who = "the brand" if first is self.removed_on_platform else "someone here"
            return (
                "Both: the brand removed the app on the platform and someone here "
                f"disconnected it ({who} first)."
            )
        if self.removed_on_platform:
            return "The brand removed the app on the platform; nobody here disconnected it."
        if self.disconnect_requested:
            return "Someone here disconnected it; the platform reported no removal by the brand."
        return "Neither: the app was not removed on the platform and nobody here disconnected it."


def account_revocation_history(*, account: Any) -> RevocationHistory:
    """Built from the account's audit events only, so it survives token and account deletion."""
    events = list(
        audit_events_for_account(account=account)
        .filter(action__in=[a.value for a in REVOCATION_ACTIONS])
        .order_by("id")[:200]
    )

    def first(*actions: AuditAction) -> AuditEvent | None:
        return next((e for e in events if e.action in {a.value for a in actions}), None)

    disconnected = first(AuditAction.CONNECTION_DISCONNECTED)
    done = disconnected.data.get("platform_side_done") if disconnected else None
    return RevocationHistory(
        events=events,
        removed_on_platform=first(
            AuditAction.CONNECTION_REVOKED_ON_PLATFORM, AuditAction.CONNECTION_DATA_DELETED
        ),
        disconnect_requested=first(AuditAction.CONNECTION_DISCONNECT_REQUESTED),
        disconnected=disconnected,
        platform_side_done=done if isinstance(done, bool) else None,
    )


# --- Chain verification --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""
    last_id: int = 0  # the last event verified (the cursor to continue from)
    last_hash: str = GENESIS_HASH
    finished: bool = True  # False: stopped early (budget) with everything so far intact


def audit_chain_walk(
    *,
    after_id: int = 0,
    expected_prev: str = GENESIS_HASH,
    upto_id: int | None = None,
    batch_size: int = 5000,
    max_events: int | None = None,
) -> ChainResult:
    """Verify the events after `after_id` (whose hash is `expected_prev`), in id order, up to
    `upto_id` and at most `max_events` of them; report the first wrong link or content."""
    checked = 0
    last_id = after_id
    for event in _iter_events(after_id, upto_id, batch_size):
        if event.prev_hash != expected_prev:
            return ChainResult(
                False,
                checked,
                event.id,
                "prev_hash does not match the event before",
                last_id,
                expected_prev,
            )
        if event.compute_hash() != event.hash:
            return ChainResult(
                False, checked, event.id, "content does not match its hash", last_id, expected_prev
            )
        expected_prev = event.hash
        last_id = event.id
        checked += 1
        if max_events is not None and checked >= max_events:
            return ChainResult(
                True, checked, last_id=last_id, last_hash=expected_prev, finished=False
            )
    return ChainResult(True, checked, last_id=last_id, last_hash=expected_prev)


def audit_chain_verify(*, batch_size: int = 5000) -> ChainResult:
    """Walk the whole chain in id order; report the first event whose link or content is wrong."""
    return audit_chain_walk(batch_size=batch_size)


def _iter_events(after_id: int, upto_id: int | None, batch_size: int) -> Iterator[AuditEvent]:
    last_id = after_id
    while True:
        qs = AuditEvent.objects.filter(id__gt=last_id)
        if upto_id is not None:
            qs = qs.filter(id__lte=upto_id)
        batch = list(qs.order_by("id")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id


# --- Choices for the filters ---------------------------------------------------------------------


def actor_choices() -> list[tuple[str, str]]:
    """People (everyone who has an account, deactivated too) and the system actors."""
    from apps.audit.filters import SYSTEM_ACTORS
    from apps.staff.models import User

    people = [
        (f"user:{pk}", f"{name or email}" + ("" if active else " (deactivated)"))
        for pk, name, email, active in User.objects.order_by("name", "email").values_list(
            "pk", "name", "email", "is_active"
        )
    ]
    return [*people, *SYSTEM_ACTORS.items()]


def client_slug(client_id: int | None) -> str:
    """The slug of an event's client, for a link ("" when the client is gone)."""
    if not client_id:
        return ""
    from apps.clients.models import Client

    return Client.objects.filter(pk=client_id).values_list("slug", flat=True).first() or ""
