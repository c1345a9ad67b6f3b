"""Operations (DESIGN §12): `/metrics` for Prometheus, behind a bearer token from the environment,
and `/ops/`, the same numbers for admins to read, with what is stuck."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from apps.connections.models import State
from apps.ops import metrics, prometheus
from apps.platforms.types import Platform
from apps.publishing.models import PublishAttempt, TargetState
from apps.staff.roles import is_admin


@never_cache
@require_safe
def metrics_endpoint(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. Without METRICS_TOKEN set, there is no such page (404); a request
    without the right `Authorization: Bearer <token>` gets 401. No session, no cookies."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("No metrics here.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = prometheus.render(metrics.snapshot())
    return HttpResponse(body, content_type=prometheus.CONTENT_TYPE)


@login_required
@never_cache
def overview(request: HttpRequest) -> HttpResponse:
    """Admins only; anyone else gets 404 (DESIGN §1: nothing to learn from a 403)."""
    if not is_admin(request.user):
        raise Http404("No such page.")
    snap = metrics.snapshot()
    return render(request, "ops/overview.html", {"snap": snap, **_tables(snap)})


def _tables(snap: metrics.Snapshot) -> dict[str, object]:
    """The snapshot's dictionaries as rows for the page's tables."""
    platforms = list(Platform)
    outcome_labels = {**dict(PublishAttempt.Outcome.choices), metrics.IN_PROGRESS: "In progress"}
    return {
        "platforms": platforms,
        "call_rows": [
            (outcome_labels[o], [snap.calls[(p.value, o)] for p in platforms])
            for o in metrics.CALL_OUTCOMES
        ],
        "result_rows": [
            (TargetState(s).label, [snap.results[(p.value, s)] for p in platforms])
            for s in metrics.RESULT_STATES
        ],
        "target_rows": [(TargetState(s).label, s, n) for s, n in snap.targets.items()],
        "account_rows": [
            (State(s).label, s, [snap.accounts[(p.value, s)] for p in platforms])
            for s in State.values
        ],
        "lag_rows": [(f"p{round(q * 100)}", value) for q, value in snap.lag.quantiles.items()],
    }
