"""Staff pages: the admin's staff list and actions, invitation acceptance, the profile page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.decorators import reauthentication_required
from allauth.account.utils import perform_login
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.views.decorators.http import require_POST

from apps.staff import ratelimits, selectors, services
from apps.staff.forms import AcceptInvitationForm, InvitationForm, ProfileForm, RoleForm
from apps.staff.models import Invitation, Role, User
from apps.staff.roles import is_admin
from apps.staff.types import AuthedRequest

View = Callable[..., HttpResponse]


def admin_required(view: View) -> View:
    """Anonymous → sign-in page; signed in but not an admin → 404 (DESIGN §1: ids don't leak)."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_admin(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- Staff list and actions (admins) -------------------------------------------------------------


@admin_required
def staff_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "staff/list.html",
        {
            "users": selectors.staff_list(),
            "invitations": selectors.invitations_pending(),
            "roles": Role.choices,
        },
    )


@admin_required
def staff_invite(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = services.invitation_create(
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
                invited_by=request.user,  # type: ignore[arg-type]
                base_url=_base_url(request),
            )
        except ValidationError as error:
            form.add_error("email", error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("staff:list")
    return render(
        request,
        "staff/invite.html",
        {"form": form, "max_age_days": settings.INVITATION_MAX_AGE_DAYS},
    )


@admin_required
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=pk)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"Invitation for {invitation.email} revoked.")
    return redirect("staff:list")


@admin_required
@require_POST
def invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=pk)
    try:
        services.invitation_resend(
            invitation=invitation,
            actor=request.user,  # type: ignore[arg-type]
            base_url=_base_url(request),
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            f"A new invitation link was sent to {invitation.email}; the old one no longer works.",
        )
    return redirect("staff:list")


@admin_required
@require_POST
@reauthentication_required
def user_role(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect("staff:list")
    try:
        user = services.user_change_role(
            user=user,
            role=form.cleaned_data["role"],
            actor=request.user,  # type: ignore[arg-type]
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("staff:list")
    messages.success(request, f"{user} is now {user.get_role_display()}.")
    if user.pk == request.user.pk and user.role != Role.ADMIN:
        return redirect(settings.LOGIN_REDIRECT_URL)
    return redirect("staff:list")


@admin_required
@require_POST
@reauthentication_required
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    try:
        services.user_deactivate(user=user, actor=request.user)  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("staff:list")
    if user.pk == request.user.pk:
        # Our own session row is gone; flush the request's session rather than re-save it.
        logout(request)
        return redirect(settings.LOGIN_URL)
    messages.success(request, f"{user} was deactivated and signed out everywhere.")
    return redirect("staff:list")


@admin_required
@require_POST
@reauthentication_required
def user_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    services.user_reactivate(user=user, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, f"{user} can sign in again.")
    return redirect("staff:list")


# --- Invitation acceptance (anonymous) ----------------------------------------------------------


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_by_token(token)
    if invitation is None or not invitation.is_open:
        return _invitation_unusable(request)
    if request.user.is_authenticated:
        return render(request, "staff/accept_signed_in.html", {"invitation": invitation})
    form = AcceptInvitationForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token,
                name=form.cleaned_data["name"],
                password=form.cleaned_data["password1"],
            )
        except services.InvitationUnusable:
            return _invitation_unusable(request)
        messages.success(request, f"Welcome to Switchboard, {user.get_short_name()}.")
        return perform_login(request, user, redirect_url=resolve_url(settings.LOGIN_REDIRECT_URL))
    return render(request, "staff/accept.html", {"form": form, "invitation": invitation})


def _invitation_unusable(request: HttpRequest) -> HttpResponse:
    # One page for unknown, expired, revoked and used links: nothing to tell apart for a visitor.
    return render(request, "staff/invitation_unusable.html", status=410)


# --- Profile (every signed-in user) ---------------------------------------------------------------


@login_required
def profile(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(
        request.POST or None, initial={"timezone": user.timezone}, agency_zone=settings.TIME_ZONE
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_change_timezone(
                user=user, timezone_name=form.cleaned_data["timezone"]
            )
        except ValidationError as error:
            form.add_error("timezone", error)
        else:
            zone = user.timezone or f"the agency's timezone, {settings.TIME_ZONE}"
            messages.success(request, f"Saved. Your calendar times are now in {zone}.")
            return redirect("staff:profile")
    return render(
        request,
        "staff/profile.html",
        {
            "profile_user": user,
            "has_mfa": selectors.user_has_mfa(user),
            "form": form,
            "agency_zone": settings.TIME_ZONE,
        },
    )


# --- Rate limits ----------------------------------------------------------------------------------


def rate_limited(request: HttpRequest) -> HttpResponse:
    """What allauth answers when a sign-in limit is hit (config.urls.handler429): our page, saying
    when to try again, with the same in Retry-After."""
    match = request.resolver_match
    action = ratelimits.ACTION_BY_VIEW.get(match.url_name or "") if match else None
    seconds = ratelimits.wait_seconds(action)
    response = render(request, "429.html", {"wait": ratelimits.wait_text(seconds)}, status=429)
    response["Retry-After"] = str(seconds)
    return response
