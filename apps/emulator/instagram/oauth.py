"""Instagram Business Login: authorize page, code exchange, long-lived exchange, refresh
(PLATFORMS §2.2-2.5)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.emulator import clock, tokens
from apps.emulator.common import json_response
from apps.emulator.consent import consent_view
from apps.emulator.faults import fault_point, graph_error, ig_oauth_error
from apps.emulator.grants import registered_redirect_uris
from apps.emulator.instagram.auth import token_error, unsupported
from apps.emulator.models import Platform, SandboxToken
from apps.emulator.state import get_config

MIN_REFRESH_AGE = dt.timedelta(hours=24)  # §2.5


@require_http_methods(["GET", "POST"])
@fault_point("instagram.authorize")
def authorize(request: HttpRequest) -> HttpResponse:
    """GET/POST /oauth/authorize — the consent page."""
    return consent_view(request, Platform.INSTAGRAM)


@csrf_exempt
@require_POST
@fault_point("instagram.code_exchange")
def code_exchange(request: HttpRequest) -> HttpResponse:
    """POST api.instagram.com/oauth/access_token — code → short-lived (1 h) token (§2.3)."""
    data = request.POST
    if data.get("client_id") != settings.INSTAGRAM_APP_ID:
        return ig_oauth_error(400, "Invalid platform app")
    if data.get("client_secret") != settings.INSTAGRAM_APP_SECRET:
        return ig_oauth_error(400, "Error validating client secret.")
    if data.get("grant_type") != "authorization_code":
        return ig_oauth_error(400, "Invalid grant_type: must be authorization_code")
    with transaction.atomic():
        code = (
            SandboxToken.objects.select_for_update()
            .select_related("account")
            .filter(value=data.get("code", ""), kind=SandboxToken.Kind.IG_CODE)
            .first()
        )
        if code is None or tokens.problem(code):
            return ig_oauth_error(400, "Matching code was not found or was already used")
        # §2.2-2.3: the same redirect_uri as in the OAuth dialog, and (still) registered.
        if code.redirect_uri != data.get("redirect_uri", ""):
            return ig_oauth_error(400, "Error validating verification code. Please make sure "
                                  "your redirect_uri is identical to the one you used in the "
                                  "OAuth dialog request")  # fmt: skip
        if code.redirect_uri not in registered_redirect_uris(Platform.INSTAGRAM):
            return ig_oauth_error(400, "Invalid redirect_uri: it is not registered for this app")
        code.used_at = clock.now()
        code.save(update_fields=["used_at"])
        short = tokens.issue(
            kind=SandboxToken.Kind.IG_SHORT,
            account=code.account,
            scopes=code.scope_list,
            ttl=get_config().instagram_short_ttl,
        )
    account = code.account
    # §2.3: production clients read a flat body with `permissions` (and a numeric user_id), the
    # default here; the current docs wrap the grant in data[]. `user_id` is the app-scoped id,
    # the same value /me returns as `id`.
    permissions = ",".join(short.scope_list)
    if get_config().instagram_token_shape == "data":
        return json_response(
            {
                "data": [
                    {
                        "access_token": short.value,
                        "user_id": account.app_scoped_id,
                        "permissions": permissions,
                    }
                ]
            }
        )
    return json_response(
        {
            "access_token": short.value,
            "user_id": int(account.app_scoped_id),
            "permissions": permissions,
        }
    )


def _long_lived(token: SandboxToken) -> HttpResponse:
    long = tokens.issue(
        kind=SandboxToken.Kind.IG_LONG,
        account=token.account,
        scopes=token.scope_list,
        ttl=get_config().instagram_long_ttl,
    )
    return json_response(
        {
            "access_token": long.value,
            "token_type": "bearer",
            "expires_in": tokens.remaining_seconds(long),
        }
    )


@require_GET
@fault_point("instagram.exchange")
def exchange(request: HttpRequest) -> HttpResponse:
    """GET graph.instagram.com/access_token?grant_type=ig_exchange_token (§2.4)."""
    if request.GET.get("grant_type") != "ig_exchange_token":
        return graph_error(400, 100, None, "Unsupported grant_type: must be ig_exchange_token")
    if request.GET.get("client_secret") != settings.INSTAGRAM_APP_SECRET:
        return graph_error(400, 1, None, "Error validating client secret.")
    token = tokens.find(request.GET.get("access_token", ""), [SandboxToken.Kind.IG_SHORT])
    reason = tokens.problem(token)
    if token is None or reason:
        return token_error(reason or "missing")
    return _long_lived(token)


@require_GET
@fault_point("instagram.refresh")
def refresh(request: HttpRequest) -> HttpResponse:
    """GET graph.instagram.com/refresh_access_token?grant_type=ig_refresh_token (§2.5).

    Only a live long-lived token at least 24 h old with instagram_business_basic; the old token
    stays valid until its own expiry (the docs describe no rotation for Instagram).
    """
    if request.GET.get("grant_type") != "ig_refresh_token":
        return graph_error(400, 100, None, "Unsupported grant_type: must be ig_refresh_token")
    token = tokens.find(request.GET.get("access_token", ""), [SandboxToken.Kind.IG_LONG])
    reason = tokens.problem(token)
    if token is None or reason:
        return token_error(reason or "missing")
    if "instagram_business_basic" not in token.scope_list:
        return graph_error(400, 10, None, "Application does not have permission for this action")
    if clock.now() - token.issued_at < MIN_REFRESH_AGE:
        # Not documented as a code; deliberately not 190 so "too young" never reads as "dead".
        return graph_error(
            400, 100, None, "The access token can only be refreshed after it is 24 hours old."
        )
    return _long_lived(token)


@require_http_methods(["GET", "POST"])
def versioned_token_path(request: HttpRequest, node: str) -> HttpResponse:
    """GET graph.instagram.com/vNN.0/access_token (or refresh_access_token) — not a thing.

    §2.1: both exist only unversioned; a peer had to move them off /v21.0/. The sandbox answers
    the way the Graph API answers a path it does not know: code 100, subcode 33.
    """
    return unsupported(request.method or "GET", node)
