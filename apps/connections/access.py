"""Connections' object access, built on `apps/clients/access.py`: an account is visible exactly
when its client is, and anything else answers 404 so ids don't leak (DESIGN §1)."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from apps.clients.access import can_manage_client, scope_to_visible_clients
from apps.clients.models import Client
from apps.connections.models import LinkedAccount


def get_account_for_view(user: Any, pk: int) -> LinkedAccount:
    """A linked account whose client the user may see, or 404."""
    try:
        return scope_to_visible_clients(LinkedAccount.objects.select_related("client"), user).get(
            pk=pk
        )
    except LinkedAccount.DoesNotExist:
        raise Http404("No such account.") from None


def can_send_connect_links(user: Any, client: Client) -> bool:
    """Connect links are created by managers (of the client) and admins (DESIGN §5)."""
    return can_manage_client(user, client)
