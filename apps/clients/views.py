from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.audit.selectors import audit_events_for_client
from apps.clients import access, selectors, services
from apps.clients.forms import AddMemberForm, ClientForm
from apps.clients.models import ClientMembership
from apps.common.forms import apply_validation_error
from apps.staff import roles
from apps.staff.types import AuthedRequest

PAGE_SIZE = 25


@login_required
def client_list(request: AuthedRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "active")
    health = request.GET.get("health", "")
    if health not in dict(selectors.HEALTH_CHOICES):
        health = ""
    try:
        manager_id = int(request.GET.get("manager") or 0) or None
    except ValueError:
        manager_id = None
    page = selectors.client_page(
        user=request.user,
        search=search,
        manager_id=manager_id,
        status=status,
        health=health,
        page=request.GET.get("page"),
        per_page=PAGE_SIZE,
    )
    context = {
        "page": page,
        "search": search,
        "status": status,
        "manager_id": manager_id,
        "health": health,
        "health_choices": selectors.HEALTH_CHOICES,
        "managers": selectors.account_manager_choices(),
        "can_create": roles.can_create_client(request.user),
    }
    template = "clients/list.html#results" if request.htmx else "clients/list.html"
    return render(request, template, context)


@login_required
def client_create(request: AuthedRequest) -> HttpResponse:
    if not roles.can_create_client(request.user):
        raise Http404
    can_pick_manager = roles.is_admin(request.user)
    form = ClientForm(request.POST or None, can_pick_manager=can_pick_manager)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                timezone_name=form.cleaned_data["timezone"],
                notes=form.cleaned_data["notes"],
                account_manager=form.cleaned_data.get("account_manager"),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"{client.name} was created.")
            return redirect("clients:detail", slug=client.slug)
    return render(request, "clients/form.html", {"form": form, "client": None})


@login_required
def client_detail(request: AuthedRequest, slug: str) -> HttpResponse:
    client = selectors.client_detail(client=access.get_client_for_view(request.user, slug))
    can_manage = access.can_manage_client(request.user, client)
    context = {
        "client": client,
        "can_manage": can_manage,
        "member_form": AddMemberForm(client=client) if can_manage else None,
        "timeline": audit_events_for_client(client=client)[:15],
    }
    return render(request, "clients/detail.html", context)


@login_required
def client_edit(request: AuthedRequest, slug: str) -> HttpResponse:
    client = access.get_client_for_manage(request.user, slug)
    can_pick_manager = roles.is_admin(request.user)
    form = ClientForm(
        request.POST or None,
        initial=ClientForm.initial_for(client),
        can_pick_manager=can_pick_manager,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(
                actor=request.user,
                client=client,
                name=form.cleaned_data["name"],
                timezone_name=form.cleaned_data["timezone"],
                notes=form.cleaned_data["notes"],
                account_manager=(
                    form.cleaned_data.get("account_manager")
                    if can_pick_manager
                    else client.account_manager
                ),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            client.refresh_from_db()
            messages.success(request, "Changes saved.")
            return redirect("clients:detail", slug=client.slug)
    return render(request, "clients/form.html", {"form": form, "client": client})


@login_required
@require_POST
def client_archive(request: AuthedRequest, slug: str) -> HttpResponse:
    client = access.get_client_for_manage(request.user, slug)
    services.client_archive(actor=request.user, client=client)
    messages.success(request, f"{client.name} is archived. You can unarchive it at any time.")
    return redirect("clients:detail", slug=client.slug)


@login_required
@require_POST
def client_unarchive(request: AuthedRequest, slug: str) -> HttpResponse:
    client = access.get_client_for_manage(request.user, slug)
    services.client_unarchive(actor=request.user, client=client)
    messages.success(request, f"{client.name} is active again.")
    return redirect("clients:detail", slug=client.slug)


@login_required
@require_POST
def member_add(request: AuthedRequest, slug: str) -> HttpResponse:
    client = access.get_client_for_manage(request.user, slug)
    form = AddMemberForm(request.POST, client=client)
    if form.is_valid():
        try:
            services.client_membership_add(
                actor=request.user, client=client, user=form.cleaned_data["user"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{form.cleaned_data['user']} joined the team.")
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("clients:detail", slug=client.slug)


@login_required
@require_POST
def member_remove(request: AuthedRequest, slug: str, membership_id: int) -> HttpResponse:
    client = access.get_client_for_manage(request.user, slug)
    membership = get_object_or_404(
        ClientMembership.objects.select_related("user", "client"), pk=membership_id, client=client
    )
    try:
        services.client_membership_remove(actor=request.user, membership=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{membership.user} left the team.")
    return redirect("clients:detail", slug=client.slug)
