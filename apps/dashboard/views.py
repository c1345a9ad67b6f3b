"""The signed-in home page: the user's clients, the health of their accounts, the posts due soon
and the ones that recently failed."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from apps.clients.models import Client
from apps.clients.selectors import client_status_counts, my_clients
from apps.publishing.selectors import posts_due_soon, recent_problems
from apps.staff.types import AuthedRequest


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    book = my_clients(user=request.user)
    mine = list(book[:12])
    counts = client_status_counts(user=request.user)
    context = {
        "my_clients": mine,
        "my_clients_count": book.count(),
        "active_count": counts[Client.Status.ACTIVE],
        "archived_count": counts[Client.Status.ARCHIVED],
        "due_soon": posts_due_soon(user=request.user),
        "recent_problems": recent_problems(user=request.user),
    }
    return render(request, "dashboard/dashboard.html", context)
