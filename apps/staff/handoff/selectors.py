"""Reads for the handoff wizard: what a person holds, a snapshot of it, past handoffs.

What someone "holds" (DESIGN §8): clients they manage or are on the team of, scheduled posts they
created that are still on their way, connect links they issued that are still open, and accounts
they connected that are not disconnected. A client appears when the person holds anything there,
so links and posts on a client whose team they already left are handed over too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.models import AuditEvent
from apps.clients.models import Client, ClientMembership
from apps.connections.models import CLOSED_STATES, ConnectLink, LinkedAccount
from apps.connections.services.health import CHECKABLE_STATES
from apps.publishing.lifecycle import IN_FLIGHT_STATES, PENDING_STATES
from apps.publishing.models import CrossPost, PublishTarget
from apps.staff.models import Role, User
from apps.staff.roles import can_manage_clients

# A post is still "scheduled" for a handoff while a target waits or is being published: a post
# that a worker is dispatching right now changes owner like any other (DESIGN §8).
OPEN_POST_STATES = PENDING_STATES | IN_FLIGHT_STATES


# --- People -------------------------------------------------------------------------------------


def handoff_people() -> QuerySet[User]:
    """Who can hand over: everyone, the deactivated too (their clients still need a new home)."""
    return User.objects.order_by("-is_active", "name", "email")


def handoff_receivers() -> QuerySet[User]:
    """Who can receive: active staff only."""
    return User.objects.filter(is_active=True).order_by("name", "email")


def is_last_active_admin(user: User) -> bool:
    if user.role != Role.ADMIN or not user.is_active:
        return False
    return not User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists()


# --- What a person holds -------------------------------------------------------------------------


def _scoped(qs: QuerySet[Any], client_ids: Collection[int] | None) -> QuerySet[Any]:
    return qs if client_ids is None else qs.filter(client_id__in=client_ids)


def open_posts_created_by(
    user: User, client_ids: Collection[int] | None = None
) -> QuerySet[CrossPost]:
    on_their_way = PublishTarget.objects.filter(
        crosspost=OuterRef("pk"), state__in=OPEN_POST_STATES
    )
    return _scoped(CrossPost.objects.filter(created_by=user), client_ids).filter(
        Exists(on_their_way)
    )


def open_links_created_by(
    user: User, client_ids: Collection[int] | None = None
) -> QuerySet[ConnectLink]:
    return _scoped(
        ConnectLink.objects.filter(
            created_by=user,
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ),
        client_ids,
    )


def accounts_connected_by(
    user: User, client_ids: Collection[int] | None = None
) -> QuerySet[LinkedAccount]:
    return _scoped(
        LinkedAccount.objects.filter(connected_by=user).exclude(state__in=CLOSED_STATES),
        client_ids,
    )


@dataclass
class ClientHolding:
    """What the departing person holds on one client."""

    client: Client
    is_manager: bool
    is_member: bool
    receiver_on_team: bool
    receiver_may_manage: bool
    posts: list[CrossPost] = field(default_factory=list)
    links: list[ConnectLink] = field(default_factory=list)
    accounts: list[LinkedAccount] = field(default_factory=list)

    @property
    def manager_blocked(self) -> bool:
        """The account manager role can't move: the receiver's role may not manage clients."""
        return self.is_manager and not self.receiver_may_manage

    @property
    def checkable(self) -> list[LinkedAccount]:
        """The accounts a health check can tell something about (queued by the handoff)."""
        return [a for a in self.accounts if a.state in CHECKABLE_STATES]

    @property
    def receiver_joins(self) -> bool:
        return (self.is_member or self.is_manager) and not self.receiver_on_team


@dataclass(frozen=True)
class Snapshot:
    """The ids of everything a person holds, as a confirm page showed it. The handoff compares
    it with what is true when it runs: anything new means the admin never saw it."""

    clients: frozenset[int] = frozenset()
    managed: frozenset[int] = frozenset()
    member: frozenset[int] = frozenset()
    posts: frozenset[int] = frozenset()
    links: frozenset[int] = frozenset()
    accounts: frozenset[int] = frozenset()

    KINDS = ("clients", "managed", "member", "posts", "links", "accounts")

    def as_dict(self) -> dict[str, list[int]]:
        return {kind: sorted(getattr(self, kind)) for kind in self.KINDS}

    @classmethod
    def from_dict(cls, data: dict[str, Iterable[int]]) -> Snapshot:
        return cls(**{kind: frozenset(int(i) for i in data.get(kind, ())) for kind in cls.KINDS})

    def new_since(self, seen: Snapshot) -> dict[str, frozenset[int]]:
        """What this snapshot has that `seen` had not, by kind (only the kinds with news)."""
        news = {kind: getattr(self, kind) - getattr(seen, kind) for kind in self.KINDS}
        return {kind: ids for kind, ids in news.items() if ids}


@dataclass
class Holdings:
    departing: User
    receiving: User | None
    clients: list[ClientHolding]

    def snapshot(self) -> Snapshot:
        return Snapshot(
            clients=frozenset(h.client.pk for h in self.clients),
            managed=frozenset(h.client.pk for h in self.clients if h.is_manager),
            member=frozenset(h.client.pk for h in self.clients if h.is_member),
            posts=frozenset(p.pk for h in self.clients for p in h.posts),
            links=frozenset(link.pk for h in self.clients for link in h.links),
            accounts=frozenset(a.pk for h in self.clients for a in h.accounts),
        )

    def only(self, client_ids: Collection[int]) -> list[ClientHolding]:
        return [h for h in self.clients if h.client.pk in client_ids]

    def besides(self, client_ids: Collection[int]) -> list[ClientHolding]:
        return [h for h in self.clients if h.client.pk not in client_ids]

    @property
    def is_empty(self) -> bool:
        return not self.clients

    def totals(self, client_ids: Collection[int] | None = None) -> dict[str, int]:
        rows = self.clients if client_ids is None else self.only(client_ids)
        return {
            "clients": len(rows),
            "managed": sum(h.is_manager for h in rows),
            "member": sum(h.is_member for h in rows),
            "posts": sum(len(h.posts) for h in rows),
            "links": sum(len(h.links) for h in rows),
            "accounts": sum(len(h.accounts) for h in rows),
        }


def handoff_holdings(*, departing: User, receiving: User | None = None) -> Holdings:
    """Everything `departing` holds, client by client (by name), in a fixed number of queries."""
    member_ids = set(
        ClientMembership.objects.filter(user=departing).values_list("client_id", flat=True)
    )
    managed_ids = set(Client.objects.filter(account_manager=departing).values_list("pk", flat=True))
    posts = list(
        open_posts_created_by(departing)
        .prefetch_related(
            Prefetch("targets", queryset=PublishTarget.objects.order_by("platform", "pk"))
        )
        .order_by("scheduled_at", "pk")
    )
    links = list(open_links_created_by(departing).order_by("created_at", "pk"))
    accounts = list(accounts_connected_by(departing).order_by("platform", "handle", "pk"))
    client_ids = (
        member_ids
        | managed_ids
        | {p.client_id for p in posts}
        | {link.client_id for link in links}
        | {a.client_id for a in accounts}
    )
    clients = Client.objects.filter(pk__in=client_ids).select_related("account_manager")
    receiver_teams: set[int] = set()
    if receiving is not None and client_ids:
        receiver_teams = set(
            ClientMembership.objects.filter(user=receiving, client_id__in=client_ids).values_list(
                "client_id", flat=True
            )
        )
    may_manage = receiving is not None and can_manage_clients(receiving)
    rows = {
        c.pk: ClientHolding(
            client=c,
            is_manager=c.pk in managed_ids,
            is_member=c.pk in member_ids,
            receiver_on_team=c.pk in receiver_teams,
            receiver_may_manage=may_manage,
        )
        for c in clients.order_by("name", "pk")
    }
    for post in posts:
        rows[post.client_id].posts.append(post)
    for link in links:
        rows[link.client_id].links.append(link)
    for account in accounts:
        rows[account.client_id].accounts.append(account)
    return Holdings(departing=departing, receiving=receiving, clients=list(rows.values()))


# --- Past handoffs ------------------------------------------------------------------------------


def recent_handoffs(*, limit: int = 10) -> list[AuditEvent]:
    """The latest handoffs, newest first (the (action, id) index, walked backwards)."""
    return list(
        AuditEvent.objects.filter(action=AuditAction.HANDOFF_COMPLETED).order_by("-id")[:limit]
    )


@dataclass(frozen=True)
class HandoffReport:
    event: AuditEvent  # the handoff.completed event
    changes: list[AuditEvent]  # one per change, in the order they were made

    @property
    def handoff_id(self) -> str:
        return str(self.event.data.get("handoff_id", ""))

    def changes_of(self, action: str) -> list[AuditEvent]:
        return [e for e in self.changes if e.action == action]


def handoff_report(*, event_id: int) -> HandoffReport | None:
    """A handoff's report from its completed event and the change events it lists (by id, so a
    report costs two indexed queries however long the log is)."""
    event = AuditEvent.objects.filter(pk=event_id, action=AuditAction.HANDOFF_COMPLETED).first()
    if event is None:
        return None
    ids = [int(i) for i in event.data.get("change_event_ids", [])]
    handoff_id = event.data.get("handoff_id")
    changes = [
        e
        for e in AuditEvent.objects.filter(pk__in=ids).order_by("id")
        if e.data.get("handoff_id") == handoff_id
    ]
    return HandoffReport(event=event, changes=changes)


def client_slugs(client_ids: Iterable[int]) -> dict[int, str]:
    """Slugs of the clients still there (a report links to them)."""
    return dict(Client.objects.filter(pk__in=set(client_ids)).values_list("pk", "slug"))
