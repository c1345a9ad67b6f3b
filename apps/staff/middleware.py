"""MFA_REQUIRED_FOR_ADMINS: an admin without an authenticator enrols TOTP before anything else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from apps.staff.roles import is_admin
from apps.staff.selectors import user_has_mfa

# allauth's own pages (sign-in, sign-out, reauthentication, MFA enrolment, password, sessions)
# must stay reachable, or the admin could never enrol; static files are served before us.
_ALLOWED_VIEW_MODULES = (
    "allauth.",
    "django.views.static",
    "django.contrib.staticfiles.",
    # The sandbox plays the platforms; its consent pages are not Switchboard's console.
    "apps.emulator.",
)


class MfaRequiredForAdminsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if not getattr(settings, "MFA_REQUIRED_FOR_ADMINS", False):
            return None
        if not is_admin(request.user):
            return None
        if getattr(view_func, "__module__", "").startswith(_ALLOWED_VIEW_MODULES):
            return None
        if user_has_mfa(request.user):  # type: ignore[arg-type]
            return None
        messages.warning(
            request,
            "Admins must use two-factor authentication. Set up an authenticator app to continue.",
        )
        return redirect("mfa_activate_totp")
