"""The handoff wizard (admins): 1 people → 2 what they hold, choose clients → 3 confirm (with a
recent password) → the report. Steps 1-3 only read (GET); the one POST runs the service."""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.staff.handoff import selectors, services
from apps.staff.handoff.forms import ClientsForm, PeopleForm, Plan, PlanForm
from apps.staff.handoff.report import change_rows, unchanged_links
from apps.staff.models import User
from apps.staff.types import AuthedRequest
from apps.staff.views import admin_required


def _require_recent_reauthentication(request: HttpRequest) -> None:
    """allauth's check after the access check (a non-admin gets the 404, not a password
    prompt); it suspends this POST and replays it once the password is typed (DESIGN §1)."""
    reauthentication_required(lambda _request: HttpResponse())(request)


def _people(request: AuthedRequest) -> tuple[PeopleForm, User | None, User | None]:
    form = PeopleForm(request.GET)
    if not form.is_valid():
        return form, None, None
    return form, form.cleaned_data["departing"], form.cleaned_data["receiving"]


def _start_page(request: AuthedRequest, form: PeopleForm) -> HttpResponse:
    return render(
        request,
        "staff/handoff/start.html",
        {"form": form, "recent": selectors.recent_handoffs(), "step": 1},
    )


@admin_required
@require_GET
def handoff_start(request: AuthedRequest) -> HttpResponse:
    initial = {k: request.GET[k] for k in ("departing", "receiving") if request.GET.get(k)}
    return _start_page(request, PeopleForm(initial=initial))


@admin_required
@require_GET
def handoff_review(request: AuthedRequest) -> HttpResponse:
    people, departing, receiving = _people(request)
    if departing is None or receiving is None:
        return _start_page(request, people)
    holdings = selectors.handoff_holdings(departing=departing, receiving=receiving)
    if request.GET.get("back"):  # from the confirm page: the choices made there
        form = ClientsForm(request.GET, holdings=holdings)
    else:
        form = ClientsForm(
            initial={"client": [h.client.pk for h in holdings.clients]}, holdings=holdings
        )
    return _review_page(request, form, holdings)


def _review_page(
    request: AuthedRequest, form: ClientsForm, holdings: selectors.Holdings
) -> HttpResponse:
    departing = holdings.departing
    if form.is_bound:
        values = form.data.getlist("client")  # type: ignore[attr-defined]
        deactivate_checked = bool(form.data.get("deactivate"))
    else:
        values, deactivate_checked = form.initial.get("client", []), False
    selected = {int(v) for v in values if str(v).isdigit()}
    return render(
        request,
        "staff/handoff/review.html",
        {
            "step": 2,
            "departing": departing,
            "receiving": holdings.receiving,
            "holdings": holdings,
            "totals": holdings.totals(),
            "form": form,
            "selected": selected,
            "deactivate_checked": deactivate_checked,
            "last_admin": selectors.is_last_active_admin(departing),
            "is_self": departing.pk == request.user.pk,
            "blocked": [h for h in holdings.clients if h.manager_blocked],
        },
    )


@admin_required
@require_GET
def handoff_confirm(request: AuthedRequest) -> HttpResponse:
    people, departing, receiving = _people(request)
    if departing is None or receiving is None:
        return _start_page(request, people)
    holdings = selectors.handoff_holdings(departing=departing, receiving=receiving)
    form = ClientsForm(request.GET, holdings=holdings)
    if not form.is_valid():
        return _review_page(request, form, holdings)
    chosen = set(form.cleaned_data["client"])
    deactivate = form.cleaned_data["deactivate"] and departing.is_active
    plan = Plan(
        departing_id=departing.pk,
        receiving_id=receiving.pk,
        client_ids=tuple(sorted(chosen)),
        deactivate=deactivate,
        seen=holdings.snapshot(),
    )
    problems = [
        f"{receiving} is {receiving.get_role_display().lower()} and can't be the account manager "
        f"of {h.client.name}. Make them an account manager on the staff page first, or leave "
        "this client out."
        for h in holdings.only(chosen)
        if h.manager_blocked
    ]
    if deactivate and selectors.is_last_active_admin(departing):
        problems.append(
            f"{departing} is the last active admin and can't be deactivated. "
            "Make someone else an admin first."
        )
    return render(
        request,
        "staff/handoff/confirm.html",
        {
            "step": 3,
            "departing": departing,
            "receiving": receiving,
            "chosen": holdings.only(chosen),
            "kept": holdings.besides(chosen),
            "totals": holdings.totals(chosen),
            "deactivate": deactivate,
            "plan": plan.sign(),
            "problems": problems,
            "review_url": _url("staff:handoff_review", plan) + "&back=1",
        },
    )


def _url(name: str, plan: Plan) -> str:
    return f"{reverse(name)}?{urlencode(plan.query(), doseq=True)}"


@admin_required
@require_POST
def handoff_run(request: AuthedRequest) -> HttpResponse:
    _require_recent_reauthentication(request)
    form = PlanForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors["plan"]))
        return redirect("staff:handoff")
    plan: Plan = form.cleaned_data["plan"]
    departing = get_object_or_404(User, pk=plan.departing_id)
    receiving = get_object_or_404(User, pk=plan.receiving_id)
    try:
        event = services.handoff_complete(
            actor=request.user,
            departing=departing,
            receiving=receiving,
            client_ids=plan.client_ids,
            deactivate=plan.deactivate,
            seen=plan.seen,
            plan_id=plan.plan_id,
        )
    except services.HandoffAlreadyDone as done:
        messages.info(request, "This handoff was already done; here is its report.")
        return redirect("staff:handoff_report", pk=done.event.pk)
    except services.HandoffChanged as changed:
        messages.warning(
            request,
            f"Things changed since you reviewed this handoff ({changed.summary}). Nothing was "
            "moved. Review what they hold now, then confirm again.",
        )
        return redirect(_url("staff:handoff_confirm", plan))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages) + " Nothing was moved.")
        return redirect(_url("staff:handoff_confirm", plan))
    if plan.deactivate and departing.pk == request.user.pk:
        # They handed over their own clients and left: our session row is gone already.
        logout(request)
        return redirect(settings.LOGIN_URL)
    messages.success(request, f"Handoff from {departing} to {receiving} is complete.")
    return redirect("staff:handoff_report", pk=event.pk)


@admin_required
@require_GET
def handoff_report(request: AuthedRequest, pk: int) -> HttpResponse:
    report = selectors.handoff_report(event_id=pk)
    if report is None:
        raise Http404("No such handoff.")
    data = report.event.data
    clients = data.get("clients", [])
    slugs = selectors.client_slugs(
        [c["id"] for c in clients] + [e.client_id for e in report.changes if e.client_id]
    )
    return render(
        request,
        "staff/handoff/report.html",
        {
            "report": report,
            "data": data,
            "clients": [{**c, "slug": slugs.get(c["id"], "")} for c in clients],
            "rows": change_rows(report, slugs),
            "unchanged_links": unchanged_links(report),
            "tz_name": timezone.get_current_timezone_name(),
        },
    )
