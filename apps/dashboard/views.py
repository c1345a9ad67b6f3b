"""The signed-in home page: the user's clients and the health of their accounts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from apps.clients.access import clients_visible_to
from apps.clients.models import Client
from apps.clients.selectors import my_clients
from apps.publishing.selectors import posts_due_soon
from apps.staff.types import AuthedRequest


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    visible = clients_visible_to(request.user)
    mine = list(my_clients(user=request.user)[:12])
    context = {
        "my_clients": mine,
        "my_clients_count": my_clients(user=request.user).count(),
        "active_count": visible.filter(status=Client.Status.ACTIVE).count(),
        "archived_count": visible.filter(status=Client.Status.ARCHIVED).count(),
        "due_soon": posts_due_soon(user=request.user),
    }
    return render(request, "dashboard/dashboard.html", context)
