"""Graph API token checks and parameter handling (PLATFORMS §2.6, §2.9)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict

from apps.emulator import tokens
from apps.emulator.common import bearer_token
from apps.emulator.faults import graph_error
from apps.emulator.models import SandboxAccount, SandboxToken

# tokens.problem() reason -> (code, subcode, message). §2.9: 190 means re-auth; the subcode
# says why (458 app removed, 459 checkpoint, 460 password changed, 463 expired).
TOKEN_ERRORS: dict[str, tuple[int, int | None, str]] = {
    "missing": (190, None, "Invalid OAuth access token - Cannot parse access token"),
    "expired": (190, 463, "Error validating access token: Session has expired."),
    "password_changed": (
        190,
        460,
        "Error validating access token: The session has been invalidated because the user "
        "changed their password or Instagram has changed the session for security reasons.",
    ),
    "checkpointed": (
        190,
        459,
        "Error validating access token: You cannot access the app till you log in to "
        "www.instagram.com and follow the instructions given.",
    ),
    "app_removed": (
        190,
        458,
        "Error validating access token: The user has not authorized application "
        + settings.INSTAGRAM_APP_ID
        + ".",
    ),
}


def params(request: HttpRequest) -> dict[str, Any]:
    """Query string, form body and JSON body merged (the Graph API accepts all three)."""
    merged: dict[str, Any] = dict(request.GET.items())
    if request.method in {"POST", "DELETE"}:
        content_type = request.content_type or ""
        if content_type == "application/json":
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                body = {}
            if isinstance(body, dict):
                merged.update(body)
        elif request.method == "POST":
            merged.update(request.POST.items())
        elif request.body:
            merged.update(QueryDict(request.body).items())
    return merged


def token_error(reason: str) -> HttpResponse:
    code, subcode, message = TOKEN_ERRORS.get(reason, TOKEN_ERRORS["app_removed"])
    return graph_error(400, code, subcode, message)


def authenticate(
    request: HttpRequest, permission: str | None = "instagram_business_basic"
) -> tuple[SandboxToken | None, HttpResponse | None]:
    """(token, None) for a live IG token holding `permission`, else (None, the error reply).

    The token may come as `access_token` (query/form/JSON) or `Authorization: Bearer`.
    Missing permission → code 10 (§2.9 "10 and 200-299 permission missing/removed").
    """
    value = str(params(request).get("access_token") or bearer_token(request))
    token = tokens.find(value, [SandboxToken.Kind.IG_SHORT, SandboxToken.Kind.IG_LONG])
    reason = tokens.problem(token)
    if token is None or reason:
        return None, token_error(reason or "missing")
    if permission and permission not in token.scope_list:
        return None, graph_error(
            400, 10, None, "Application does not have permission for this action"
        )
    return token, None


def resolve_user(node: str, token: SandboxToken) -> SandboxAccount | None:
    """`me`, the IG professional id or the app-scoped id of the token's own account (§2.6)."""
    account = token.account
    return account if node in {"me", account.ig_user_id, account.app_scoped_id} else None


def unsupported(method: str, node: str) -> HttpResponse:
    return graph_error(
        400,
        100,
        33,
        f"Unsupported {method.lower()} request. Object with ID '{node}' does not exist, cannot "
        "be loaded due to missing permissions, or does not support this operation.",
    )
