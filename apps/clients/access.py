"""Client-scoped object access, in one place (DESIGN §1). Every view that loads a client-scoped
object calls one of these (or an app's own lookup built on `clients_visible_to`); an object
outside the user's scope answers 404 so ids don't leak. Role-only rules: apps/staff/roles.py."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

from apps.clients.models import Client, ClientMembership
from apps.staff.models import Role

M = TypeVar("M", bound=Model)


def visible_client_ids(user: Any) -> QuerySet[Any] | None:
    """The ids of the clients `user` may see, as a subquery — or None for "every client" (an
    admin), so that callers add no filter at all.

    Built from the person's own rows (their memberships, the clients they manage) through
    indexes, so it costs what their book costs, not what the agency's size costs (DESIGN §11:
    pages stay flat as the agency grows).
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Client.objects.none().values("pk")
    if user.role == Role.ADMIN:
        return None
    on_team = ClientMembership.objects.filter(user=user).order_by().values("client_id")
    if user.role == Role.MANAGER:
        managed = Client.objects.filter(account_manager=user).order_by().values("pk")
        return on_team.union(managed)
    return on_team


def sees_every_client(user: Any) -> bool:
    """An admin's scope: no filter at all (whole-table counts may be kept, apps/common/tallies)."""
    return visible_client_ids(user) is None


def clients_visible_to(user: Any) -> QuerySet[Client]:
    """Admins see every client; staff and managers see the clients whose team they are on,
    and managers also the clients they manage."""
    return scope_to_visible_clients(Client.objects.all(), user, field="pk")


def scope_to_visible_clients(
    qs: QuerySet[M], user: Any, *, field: str = "client", listed: bool = False
) -> QuerySet[M]:
    """`qs` narrowed to rows whose `field` (a client or client id) the user may see.

    `listed` reads the person's client ids first and filters by the list, for reads over a large
    table (accounts): given a list, the database fetches those clients' rows through the client
    index; given the subquery, PostgreSQL may hash the whole table against it, which costs what
    the agency costs instead of what the person's book costs.
    """
    ids = visible_client_ids(user)
    if ids is None:
        return qs
    if listed:
        return qs.filter(**{f"{field}__in": [pk for row in ids for pk in row.values()]})
    return qs.filter(**{f"{field}__in": ids})


def can_view_client(user: Any, client: Client) -> bool:
    return clients_visible_to(user).filter(pk=client.pk).exists()


def can_manage_client(user: Any, client: Client) -> bool:
    """Edit, archive and change the team: admins, and managers of this client."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.MANAGER and client.account_manager_id == user.pk


def get_client_for_view(user: Any, slug: str) -> Client:
    """The client a user may see, or 404."""
    try:
        return clients_visible_to(user).get(slug=slug)
    except Client.DoesNotExist:
        raise Http404("No such client.") from None


def get_client_for_manage(user: Any, slug: str) -> Client:
    """The client a user may edit; 404 when they cannot even see it, 404 too when they can see
    it but not manage it (a team member poking at the edit URL learns nothing new)."""
    client = get_client_for_view(user, slug)
    if not can_manage_client(user, client):
        raise Http404("No such client.")
    return client
