"""Reads for client pages, shaped for the templates (no query per row)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from apps.clients.access import clients_visible_to
from apps.clients.models import Client, ClientMembership
from apps.staff.models import Role, User


def client_list(
    *, user: Any, search: str = "", manager_id: int | None = None, status: str = "active"
) -> QuerySet[Client]:
    qs = clients_visible_to(user).select_related("account_manager")
    if status in (Client.Status.ACTIVE, Client.Status.ARCHIVED):
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(notes__icontains=search))
    if manager_id:
        qs = qs.filter(account_manager_id=manager_id)
    return qs.annotate(team_size=Count("memberships", distinct=True)).order_by("name")


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
    """Clients the user is on the team of or manages (an admin's own, not all)."""
    return (
        Client.objects.filter(status=Client.Status.ACTIVE)
        .filter(Q(memberships__user=user) | Q(account_manager=user))
        .select_related("account_manager")
        .distinct()
        .order_by("name")
    )
