"""Client-scoped object access, in one place (DESIGN §1). Every view that loads a client-scoped
object calls one of these (or an app's own lookup built on `clients_visible_to`); an object
outside the user's scope answers 404 so ids don't leak. Role-only rules: apps/staff/roles.py."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from apps.clients.models import Client, ClientMembership
from apps.staff.models import Role


def clients_visible_to(user: Any) -> QuerySet[Client]:
    """Admins see every client; staff and managers see the clients whose team they are on,
    and managers also the clients they manage."""
    qs = Client.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if user.role == Role.ADMIN:
        return qs
    on_team = ClientMembership.objects.filter(client=OuterRef("pk"), user=user)
    if user.role == Role.MANAGER:
        return qs.filter(Exists(on_team) | Q(account_manager=user))
    return qs.filter(Exists(on_team))


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
