"""The platforms' webhooks and callbacks (DESIGN §5): public, CSRF-exempt, verified by the service.

Each answer says what was wrong in plain text — "invalid signature (…)", "malformed body: …",
"missing signed_request" — and never echoes the input or anything secret.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.connections.models import WebhookEvent
from apps.connections.providers import provider_for
from apps.connections.services import webhooks


def _refused(exc: webhooks.WebhookRejected) -> HttpResponse:
    # Plain text for the platforms' retry logic, never the people-facing 429 page.
    response = HttpResponse(
        exc.message, status=exc.status, content_type="text/plain; charset=utf-8"
    )
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, platform: str, kind: str) -> HttpResponse:
    """One callback of `kind` from `platform`, as its provider declares (urls.py routes each)."""
    try:
        provider = provider_for(platform)
    except (ValueError, KeyError):
        raise Http404 from None
    if kind not in provider.webhook_kinds:
        raise Http404
    raw_body = request.body  # read before POST: the refused-delivery record keeps an excerpt
    try:
        outcome = provider.receive_webhook(
            kind,
            raw_body=raw_body,
            headers=request.headers,
            form_value=lambda name: request.POST.get(name),
        )
    except webhooks.WebhookRejected as exc:
        return _refused(exc)
    return JsonResponse(outcome.response if outcome.response is not None else {"ok": True})


def data_deletion_status(request: HttpRequest, code: str) -> HttpResponse:
    event = WebhookEvent.objects.filter(
        kind=WebhookEvent.Kind.IG_DATA_DELETION, verified=True, confirmation_code=code[:64]
    ).first()
    if event is None:
        raise Http404
    return render(request, "connections/data_deletion_status.html", {"event": event})
