"""Audit pages: the log across clients, a client's and an account's timeline (the same list,
scoped by the URL), one event, the CSV export, the monthly client report and the chain
verification. Who sees what: apps/audit/selectors.py and DESIGN §1."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from allauth.account.decorators import reauthentication_required
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from apps.audit import search, selectors
from apps.audit.actions import ACTION_GROUPS, AuditAction, group_of
from apps.audit.display import describe_data
from apps.audit.export import audit_csv_lines
from apps.audit.filters import AuditFilter, AuditFilterForm
from apps.audit.models import AuditEvent, ChainVerification
from apps.audit.report import client_monthly_report
from apps.audit.services import (
    audit_export_record,
    chain_verification_is_stalled,
    chain_verification_start,
)
from apps.clients.access import clients_visible_to, get_client_for_view, scope_to_visible_clients
from apps.connections.access import get_account_for_view
from apps.connections.models import LinkedAccount
from apps.staff.roles import can_view_audit, is_admin
from apps.staff.types import AuthedRequest

PAGE_SIZE = 50
CLIENT_SELECT_MAX = 200


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _action_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Actions grouped as the group filter groups them (optgroups)."""
    return [
        (group.label, [(code, f"{AuditAction(code).label} ({code})") for code in group.codes])
        for group in ACTION_GROUPS
    ]


def _log(
    request: AuthedRequest,
    *,
    scope: QuerySet[AuditEvent],
    fixed: AuditFilter,
    extra: dict[str, Any],
) -> HttpResponse:
    """The list of events, newest first, for the log and both timelines. `fixed` holds what the
    URL decides (a timeline's client or account), which the query string cannot change."""
    form = AuditFilterForm(request.GET)
    form.is_valid()
    asked = form.audit_filter()
    f = replace(
        asked,
        client_id=fixed.client_id or asked.client_id,
        account_id=fixed.account_id or asked.account_id,
    )
    client_name, client_error = "", ""
    if extra.get("client_by_name"):
        # Too many clients for a list: the client is typed, by name (or slug).
        client_name = request.GET.get("client_name", "").strip()[:200]
        if client_name:
            found = (
                clients_visible_to(request.user)
                .filter(Q(name__iexact=client_name) | Q(slug=client_name))
                .values_list("pk", flat=True)
                .first()
            )
            if found is None:
                client_error = f"None of your clients is called “{client_name}”."
            f = replace(f, client_id=found)
        elif f.client_id:
            client_name = (
                clients_visible_to(request.user)
                .filter(pk=f.client_id)
                .values_list("name", flat=True)
                .first()
                or ""
            )
    page = search.audit_event_page(
        scope=scope, f=f, before_id=_int_or_none(request.GET.get("before")), limit=PAGE_SIZE
    )
    for event in page.events:
        event.summary = describe_data(event.data)  # type: ignore[attr-defined]
    client_id = f.client_id
    accounts = (
        scope_to_visible_clients(LinkedAccount.objects.filter(client_id=client_id), request.user)
        .order_by("platform", "handle")
        .only("pk", "platform", "handle", "external_id")
        if client_id and not fixed.account_id
        else []
    )
    own_params = f.without_scope() if fixed.client_id else f
    context = {
        "form": form,
        "f": f,
        "events": page.events,
        "next_before": page.next_before,
        "is_first_page": not request.GET.get("before"),
        "query": own_params.querystring(),
        "filtered": not own_params.is_empty,
        "export_query": f.querystring(),
        "can_export": can_view_audit(request.user),
        "groups": ACTION_GROUPS,
        "actions": _action_choices(),
        "actors": selectors.actor_choices(),
        "accounts": accounts,
        "tz_name": timezone.get_current_timezone_name(),
        "client_name": client_name,
        "client_error": client_error,
        **extra,
    }
    return render(request, "audit/list.html", context)


@login_required
def audit_list(request: AuthedRequest) -> HttpResponse:
    """The log across clients: managers (their clients) and admins (DESIGN §1)."""
    if not can_view_audit(request.user):
        raise Http404
    # A list of every client reads well up to a few hundred; an admin of a large agency types
    # the name instead (thousands of <option>s cost more to draw than the page's queries).
    clients = list(
        clients_visible_to(request.user)
        .only("id", "name")
        .order_by("name")[: CLIENT_SELECT_MAX + 1]
    )
    by_name = len(clients) > CLIENT_SELECT_MAX
    return _log(
        request,
        scope=selectors.audit_events_visible_to(request.user),
        fixed=AuditFilter(),
        extra={
            "scope_kind": "all",
            "clients": [] if by_name else clients,
            "client_by_name": by_name,
        },
    )


@login_required
def client_timeline(request: AuthedRequest, slug: str) -> HttpResponse:
    """One client's timeline: whoever may see the client (its team too, DESIGN §1)."""
    client = get_client_for_view(request.user, slug)
    today = timezone.localdate()
    return _log(
        request,
        scope=selectors.audit_events_for_client(client=client),
        fixed=AuditFilter(client_id=client.pk),
        extra={
            "scope_kind": "client",
            "client": client,
            "report_month": today.replace(day=1),
        },
    )


@login_required
def account_timeline(request: AuthedRequest, pk: int) -> HttpResponse:
    """One account's timeline, with who ended its authorization and when."""
    account = get_account_for_view(request.user, pk)
    return _log(
        request,
        scope=selectors.audit_events_for_account(account=account),
        fixed=AuditFilter(client_id=account.client_id, account_id=account.pk),
        extra={
            "scope_kind": "account",
            "client": account.client,
            "account": account,
            "revocation": selectors.account_revocation_history(account=account),
        },
    )


@login_required
def event_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    event = selectors.audit_event_for_view(request.user, pk)
    group = group_of(event.action)
    admin = is_admin(request.user)
    context = {
        "event": event,
        "group": group,
        "changes": describe_data(event.data),
        "chain": selectors.audit_chain_position(event),
        "show_neighbours": admin,
        # A completed handoff has a printable report, for admins only (DESIGN §8).
        "handoff_report_url": (
            reverse("staff:handoff_report", args=[event.pk])
            if admin and event.action == AuditAction.HANDOFF_COMPLETED
            else ""
        ),
        "can_filter": can_view_audit(request.user),
        "client_slug": selectors.client_slug(event.client_id),
        "is_account": event.target_type == search.ACCOUNT_TARGET,
        "tz_name": timezone.get_current_timezone_name(),
    }
    return render(request, "audit/event.html", context)


def _require_recent_reauthentication(request: HttpRequest) -> None:
    """allauth's check, run after the access check so that a role without access gets the 404
    every other page gives, not a password prompt (DESIGN §1: export is a sensitive action)."""
    reauthentication_required(lambda _request: HttpResponse())(request)


@login_required
def export_csv(request: AuthedRequest) -> HttpResponseBase:
    """Any filter of the log as CSV, streamed (managers: their clients; admins: all).
    `limit=N` exports the newest N events of the filter only."""
    if not can_view_audit(request.user):
        raise Http404
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        # Never export more than was asked: show the log with the filter's errors instead.
        return redirect(reverse("audit:list") + "?" + request.GET.urlencode())
    _require_recent_reauthentication(request)
    f = form.audit_filter()
    client = (
        clients_visible_to(request.user).filter(pk=f.client_id).first() if f.client_id else None
    )
    account = (
        scope_to_visible_clients(LinkedAccount.objects.filter(pk=f.account_id), request.user)
        .select_related("client")
        .first()
        if f.account_id
        else None
    )
    limit = _int_or_none(request.GET.get("limit"))
    limit = limit if limit and limit > 0 else None
    filename = f.filename(
        client_slug=client.slug if client else "",
        account_label=account.label if account else "",
        newest=limit,
    )
    params = {**f.params(), **({"limit": str(limit)} if limit else {})}
    audit_export_record(actor=request.user, params=params, client=client, filename=filename)
    response = StreamingHttpResponse(
        audit_csv_lines(scope=selectors.audit_events_visible_to(request.user), f=f, limit=limit),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def client_report(request: AuthedRequest, slug: str, year: int, month: int) -> HttpResponse:
    """The client's monthly report, to print or save as PDF from the browser."""
    client = get_client_for_view(request.user, slug)
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise Http404("No such month.")
    report = client_monthly_report(client=client, month=date(year, month, 1))
    return render(
        request,
        "audit/report.html",
        {"report": report, "client": client, "generated_at": timezone.now()},
    )


# --- Chain verification (admins) ----------------------------------------------------------


def _admin_or_404(request: AuthedRequest) -> None:
    if not is_admin(request.user):
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def verification_start(request: AuthedRequest) -> HttpResponse:
    """GET: the latest runs and a button; POST: start a run (or show the one going)."""
    _admin_or_404(request)
    if request.method == "POST":
        run = chain_verification_start(actor=request.user)
        return redirect("audit:verification", pk=run.pk)
    runs = list(ChainVerification.objects.select_related("started_by")[:10])
    running = next((r for r in runs if r.is_running and not chain_verification_is_stalled(r)), None)
    return render(request, "audit/verify.html", {"runs": runs, "running": running})


@login_required
@require_GET
def verification_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """One run; while it runs, the progress card re-reads this page every two seconds (htmx)."""
    _admin_or_404(request)
    run = ChainVerification.objects.select_related("started_by").filter(pk=pk).first()
    if run is None:
        raise Http404
    broken = AuditEvent.objects.filter(pk=run.broken_id).first() if run.broken_id else None
    context = {"run": run, "broken": broken, "stalled": chain_verification_is_stalled(run)}
    template = "audit/verification.html#progress" if request.htmx else "audit/verification.html"
    return render(request, template, context)
