"""Bearer-token checks for TikTok's v2 API (PLATFORMS §1.8)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from apps.emulator import tokens
from apps.emulator.common import bearer_token, json_response, log_id
from apps.emulator.faults import tiktok_api_error
from apps.emulator.models import SandboxToken


def ok(data: dict[str, object], status: int = 200) -> HttpResponse:
    """The success envelope: `error.code == "ok"`."""
    return json_response(
        {"data": data, "error": {"code": "ok", "message": "", "log_id": log_id()}}, status=status
    )


def authenticate(
    request: HttpRequest, any_of_scopes: set[str]
) -> tuple[SandboxToken | None, HttpResponse | None]:
    """(token, None) when the bearer token is live and holds one of `any_of_scopes`,
    else (None, the 401 reply: `access_token_invalid` or `scope_not_authorized`)."""
    token = tokens.find(bearer_token(request), [SandboxToken.Kind.TT_ACCESS])
    if token is None or tokens.problem(token):
        return None, tiktok_api_error(
            401,
            "access_token_invalid",
            "The access token is invalid or not found in the request.",
        )
    if any_of_scopes and not any_of_scopes & set(token.scope_list):
        return None, tiktok_api_error(
            401,
            "scope_not_authorized",
            "The user did not authorize the scope required for completing this request.",
        )
    return token, None
