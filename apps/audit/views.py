from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.audit.actions import AuditAction
from apps.audit.selectors import audit_event_page
from apps.clients.access import clients_visible_to
from apps.staff.roles import can_view_audit


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    if not can_view_audit(request.user):
        raise Http404
    action = request.GET.get("action", "")
    if action not in AuditAction.values:
        action = ""
    client_id = _int_or_none(request.GET.get("client"))
    text = request.GET.get("q", "").strip()[:100]
    events, next_before = audit_event_page(
        user=request.user,
        client_id=client_id,
        action=action,
        text=text,
        before_id=_int_or_none(request.GET.get("before")),
    )
    context = {
        "events": events,
        "next_before": next_before,
        "action": action,
        "client_id": client_id,
        "text": text,
        "actions": AuditAction.choices,
        "clients": clients_visible_to(request.user).only("id", "name").order_by("name"),
        "is_first_page": not request.GET.get("before"),
    }
    return render(request, "audit/list.html", context)
