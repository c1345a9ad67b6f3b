from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from apps.clients.access import clients_visible_to
from apps.clients.models import Client
from apps.clients.selectors import my_clients
from apps.common.health import health_report


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    visible = clients_visible_to(request.user)
    mine = list(my_clients(user=request.user)[:12])
    context = {
        "my_clients": mine,
        "my_clients_count": my_clients(user=request.user).count(),
        "active_count": visible.filter(status=Client.Status.ACTIVE).count(),
        "archived_count": visible.filter(status=Client.Status.ARCHIVED).count(),
    }
    return render(request, "common/dashboard.html", context)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Unauthenticated liveness for load balancers: no secrets, no object data."""
    report = health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)
