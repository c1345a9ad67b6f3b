"""TikTok Login Kit: authorize page, token (code + refresh), revoke (PLATFORMS §1.2-1.4)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from apps.emulator import actions, clock, tokens
from apps.emulator.common import json_response
from apps.emulator.consent import consent_view
from apps.emulator.faults import fault_point, tiktok_oauth_error
from apps.emulator.grants import registered_redirect_uris
from apps.emulator.models import Platform, SandboxAccount, SandboxToken
from apps.emulator.state import get_config

# HTTP status for OAuth errors is undocumented (§1.3); one practitioner saw invalid_grant with
# 200, so the sandbox does that too — clients must branch on the body, not the status.
INVALID_GRANT_STATUS = 200


def _invalid_grant(description: str) -> HttpResponse:
    return tiktok_oauth_error(INVALID_GRANT_STATUS, "invalid_grant", description)


@require_http_methods(["GET", "POST"])
@fault_point("tiktok.authorize")
def authorize(request: HttpRequest) -> HttpResponse:
    """GET/POST /v2/auth/authorize/ — the consent page."""
    return consent_view(request, Platform.TIKTOK)


def _client_ok(request: HttpRequest) -> bool:
    return (
        request.POST.get("client_key") == settings.TIKTOK_CLIENT_KEY
        and request.POST.get("client_secret") == settings.TIKTOK_CLIENT_SECRET
    )


def _token_payload(
    account: SandboxAccount, scopes: list[str], refresh_deadline: dt.datetime | None
) -> dict[str, Any]:
    config = get_config()
    access = tokens.issue(
        kind=SandboxToken.Kind.TT_ACCESS,
        account=account,
        scopes=scopes,
        ttl=config.tiktok_access_ttl,
    )
    refresh = tokens.issue(
        kind=SandboxToken.Kind.TT_REFRESH,
        account=account,
        scopes=scopes,
        ttl=config.tiktok_refresh_ttl,
        expires_at=refresh_deadline,
    )
    return {
        "access_token": access.value,
        "expires_in": tokens.remaining_seconds(access),
        "open_id": account.open_id,
        "refresh_expires_in": tokens.remaining_seconds(refresh),
        "refresh_token": refresh.value,
        "scope": ",".join(scopes),
        "token_type": "Bearer",
    }


@csrf_exempt
@require_POST
@fault_point("tiktok.token")
def token(request: HttpRequest) -> HttpResponse:
    """POST /v2/oauth/token/ — authorization_code and refresh_token grants (§1.3)."""
    if not request.POST.get("client_key") or not request.POST.get("grant_type"):
        return tiktok_oauth_error(400, "invalid_request", "client_key and grant_type are required")
    if not _client_ok(request):
        return tiktok_oauth_error(401, "invalid_client", "Client key or secret is invalid.")
    grant_type = request.POST["grant_type"]
    with transaction.atomic():
        if grant_type == "authorization_code":
            code = (
                SandboxToken.objects.select_for_update()
                .select_related("account")
                .filter(value=request.POST.get("code", ""), kind=SandboxToken.Kind.TT_CODE)
                .first()
            )
            problem = tokens.problem(code)
            if code is None or problem:
                return _invalid_grant(f"Authorization code is invalid ({problem}).")
            redirect_uri = request.POST.get("redirect_uri", "")
            # §1.3: the same redirect_uri as at authorize, and (still) registered for the app.
            if code.redirect_uri != redirect_uri:
                return _invalid_grant("redirect_uri does not match the authorization request.")
            if redirect_uri not in registered_redirect_uris(Platform.TIKTOK):
                return _invalid_grant("redirect_uri is not registered for this app.")
            # PLATFORMS §1.2: every code is bound to its PKCE challenge; no verifier, no tokens.
            if not _verifier_matches(request.POST.get("code_verifier", ""), code.code_challenge):
                return _invalid_grant("code_verifier does not match the code_challenge.")
            code.used_at = clock.now()
            code.save(update_fields=["used_at"])
            return json_response(_token_payload(code.account, code.scope_list, None))
        if grant_type == "refresh_token":
            old = (
                SandboxToken.objects.select_for_update()
                .select_related("account")
                .filter(
                    value=request.POST.get("refresh_token", ""),
                    kind=SandboxToken.Kind.TT_REFRESH,
                )
                .first()
            )
            problem = tokens.problem(old)
            if old is None or problem:
                return _invalid_grant(f"Refresh token is invalid or expired ({problem}).")
            # Newest docs: the refresh token is always rotated and the old one stops working;
            # `refresh_expires_in` is the *remaining* lifetime, so the chain keeps its deadline.
            tokens.revoke(old, "rotated")
            return json_response(_token_payload(old.account, old.scope_list, old.expires_at))
    return tiktok_oauth_error(400, "unsupported_grant_type", f"Unsupported grant {grant_type}.")


@csrf_exempt
@require_POST
@fault_point("tiktok.revoke")
def revoke(request: HttpRequest) -> HttpResponse:
    """POST /v2/oauth/revoke/ — the app disconnects the user (§1.4).

    All of the user's tokens die and the `authorization.removed` webhook fires with reason 5.
    An unknown token is a no-op `{}` (RFC 7009).
    """
    if not _client_ok(request):
        return tiktok_oauth_error(401, "invalid_client", "Client key or secret is invalid.")
    if not request.POST.get("token"):
        return tiktok_oauth_error(400, "invalid_request", "token is required")
    found = tokens.find(
        request.POST["token"], [SandboxToken.Kind.TT_ACCESS, SandboxToken.Kind.TT_REFRESH]
    )
    if found is not None and found.revoked_at is None:
        actions.remove_app(found.account, reason=5, revoked_as="revoked")
    return json_response({})


def _verifier_matches(verifier: str, challenge: str) -> bool:
    # PLATFORMS §1.2 [3p]: TikTok computes hex(SHA-256(verifier)), not base64url.
    expected = hashlib.sha256(verifier.encode()).hexdigest()
    return bool(verifier and challenge) and hmac.compare_digest(expected, challenge)
