from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from apps.common.health import health_report


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Unauthenticated liveness for load balancers: no secrets, no object data."""
    report = health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)
