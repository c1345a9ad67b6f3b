"""Staff middleware: MFA_REQUIRED_FOR_ADMINS (an admin without an authenticator enrols TOTP
before anything else) and signed-in session tracking without a write per request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from allauth.account.adapter import get_adapter
from allauth.usersessions.internal import usersessionkit
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

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


class UserSessionActivityMiddleware:
    """allauth's UserSessionsMiddleware, writing a session's row at most once per
    USER_SESSION_ACTIVITY_INTERVAL.

    allauth's rewrites the row (last seen, address, browser) on every signed-in request: one
    transaction with an UPDATE per response, each htmx poll included. This one reads the row
    (one indexed SELECT) and lets allauth write only when the row is missing, its user, address
    or browser changed (allauth then sends session_client_changed at once, as before), or it was
    last written longer ago than the interval. The sessions page's "last seen" is that coarse.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._due(request):
            usersessionkit.track_activity(
                request,
                user=getattr(request, "user", None),
                session=getattr(request, "session", None),
            )
        return self.get_response(request)

    def _due(self, request: HttpRequest) -> bool:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or not user.is_authenticated or session is None:
            return False
        if not session.session_key:
            return False
        seen = (
            UserSession.objects.filter(session_key=session.session_key)
            .values_list("user_id", "ip", "user_agent", "last_seen_at")
            .first()
        )
        if seen is None:
            return True
        user_id, ip, user_agent, last_seen_at = seen
        max_length = UserSession._meta.get_field("user_agent").max_length
        interval = timedelta(seconds=settings.USER_SESSION_ACTIVITY_INTERVAL)
        return (
            user_id != user.pk
            or ip != get_adapter().get_client_ip(request)
            or user_agent != request.META.get("HTTP_USER_AGENT", "")[:max_length]
            or last_seen_at <= timezone.now() - interval
        )
