"""Reads for client pages, shaped for the templates (no query per row)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.clients.access import clients_visible_to, scope_to_visible_clients, sees_every_client
from apps.clients.models import Client, ClientMembership
from apps.clients.tallies import CLIENTS_BY_STATUS
from apps.common.paging import Window, window
from apps.connections.models import CLOSED_STATES, LinkedAccount
from apps.connections.selectors import needs_attention_q
from apps.staff.models import Role, User

# The clients list's health filter: (value, label). "Needs attention" is the dashboard's
# definition (connections.selectors.needs_attention_q), asked of each client's accounts.
HEALTH_ATTENTION = "attention"
HEALTH_HEALTHY = "healthy"
HEALTH_NO_ACCOUNTS = "none"
HEALTH_CHOICES = [
    ("", "Any"),
    (HEALTH_ATTENTION, "Needs attention"),
    (HEALTH_HEALTHY, "All healthy"),
    (HEALTH_NO_ACCOUNTS, "No accounts"),
]


def _open_accounts() -> QuerySet[LinkedAccount]:
    """The client's accounts that count: not disconnected, no disconnect under way."""
    return LinkedAccount.objects.filter(client=OuterRef("pk")).exclude(state__in=CLOSED_STATES)


def _accounts_needing_attention(now: datetime) -> QuerySet[LinkedAccount]:
    return LinkedAccount.objects.filter(client=OuterRef("pk")).filter(needs_attention_q(now=now))


def client_list(
    *,
    user: Any,
    search: str = "",
    manager_id: int | None = None,
    status: str = "active",
    health: str = "",
) -> QuerySet[Client]:
    """The clients a user may see, filtered. The health filter asks each client's accounts
    (an EXISTS per client); the badges of the clients shown come from `client_page`."""
    qs = clients_visible_to(user).select_related("account_manager")
    if status in (Client.Status.ACTIVE, Client.Status.ARCHIVED):
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(notes__icontains=search))
    if manager_id:
        qs = qs.filter(account_manager_id=manager_id)
    if health:
        now = timezone.now()
        if health == HEALTH_ATTENTION:
            qs = qs.filter(Exists(_accounts_needing_attention(now)))
        elif health == HEALTH_HEALTHY:
            qs = qs.filter(Exists(_open_accounts()), ~Exists(_accounts_needing_attention(now)))
        elif health == HEALTH_NO_ACCOUNTS:
            qs = qs.filter(~Exists(_open_accounts()))
    return qs.order_by("name", "pk")


def client_page(
    *,
    user: Any,
    search: str = "",
    manager_id: int | None = None,
    status: str = "active",
    health: str = "",
    page: Any = 1,
    per_page: int = 25,
) -> Window[Client]:
    """One page of the clients list, with each client's team size and account health, in three
    queries whatever the agency's size: no count of all clients, and team sizes and health only
    for the clients shown (asked in the page query, PostgreSQL would work them out for every
    client before sorting)."""
    result = window(
        client_list(user=user, search=search, manager_id=manager_id, status=status, health=health),
        number=page,
        per_page=per_page,
    )
    ids = [c.pk for c in result.object_list]
    sizes = dict(
        ClientMembership.objects.filter(client__in=ids)
        .values_list("client")
        .annotate(n=Count("pk"))
        .values_list("client", "n")
    )
    health_rows = (
        LinkedAccount.objects.filter(client__in=ids)
        .exclude(state__in=CLOSED_STATES)
        .order_by()
        .values("client")
        .annotate(
            accounts=Count("pk"),
            attention=Count("pk", filter=needs_attention_q(now=timezone.now())),
        )
    )
    health_of = {row["client"]: row for row in health_rows}
    for client in result.object_list:
        client.team_size = sizes.get(client.pk, 0)  # type: ignore[attr-defined]
        row = health_of.get(client.pk, {"accounts": 0, "attention": 0})
        client.has_accounts = bool(row["accounts"])  # type: ignore[attr-defined]
        client.needs_attention = bool(row["attention"])  # type: ignore[attr-defined]
    return result


def client_detail(*, client: Client) -> Client:
    return (
        Client.objects.select_related("account_manager", "created_by")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=ClientMembership.objects.select_related("user", "added_by").order_by(
                    "user__name"
                ),
            )
        )
        .get(pk=client.pk)
    )


def account_manager_choices() -> QuerySet[User]:
    return User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.ADMIN]).order_by("name")


def team_candidates(*, client: Client) -> QuerySet[User]:
    return (
        User.objects.filter(is_active=True)
        .exclude(client_memberships__client=client)
        .order_by("name")
    )


def my_clients(*, user: Any) -> QuerySet[Client]:
    """Clients the user is on the team of or manages (an admin's own, not all): the person's
    own ids are read first through the membership and manager indexes, so the clients are then
    fetched by primary key — a person's book, whatever the agency's size."""
    on_team = ClientMembership.objects.filter(user=user).order_by().values_list("client_id")
    managed = Client.objects.filter(account_manager=user).order_by().values_list("pk")
    ids = {pk for (pk,) in on_team.union(managed)}
    return (
        Client.objects.filter(status=Client.Status.ACTIVE, pk__in=ids)
        .select_related("account_manager")
        .order_by("name")
    )


def client_status_counts(*, user: Any) -> dict[str, int]:
    """Active and archived clients the user can see: for others than admins one aggregate over
    their own book; for an admin the whole table's, kept until a client service changes it."""

    def count() -> dict[str, int]:
        book = scope_to_visible_clients(Client.objects.all(), user, field="pk", listed=True)
        return dict(book.order_by().values_list("status").annotate(n=Count("pk")))

    counts = CLIENTS_BY_STATUS.read(count) if sees_every_client(user) else count()
    return {status: counts.get(status, 0) for status in Client.Status.values}
