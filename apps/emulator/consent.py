"""The sandbox's own sign-in and consent pages (DESIGN §9), one implementation for both platforms.

Invalid client ids, unregistered redirect URIs, a TikTok request without a PKCE challenge or (on
Instagram) bad scopes get an error page —
like the real platforms, the sandbox never redirects to a URI that is not registered for the app.
Everything else ends in a redirect to `redirect_uri` with a code or with `error=access_denied`
(Cancel, or an account the platform refuses, e.g. a personal Instagram account).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from apps.emulator.common import with_query
from apps.emulator.grants import (
    GrantRefused,
    app_credentials,
    denial_url,
    grant,
    parse_scopes,
    redirect_uri_refusal,
    required_scopes,
)
from apps.emulator.models import Platform, SandboxAccount

BRAND = {Platform.TIKTOK: "TikTok (sandbox)", Platform.INSTAGRAM: "Instagram (sandbox)"}
# PLATFORMS §1.2: since mid-2026 TikTok refuses the authorize page without a PKCE challenge and
# shows its own error page (no redirect) with these codes.
TIKTOK_PKCE_ERR_CODE = "10007"
TIKTOK_PKCE_ERROR_TYPE = "code_challenge"


def _error_page(
    request: HttpRequest, platform: str, message: str, *, err_code: str = "", error_type: str = ""
) -> HttpResponse:
    return render(
        request,
        "emulator/consent_error.html",
        {
            "brand": BRAND[Platform(platform)],
            "message": message,
            "err_code": err_code,
            "error_type": error_type,
        },
        status=400,
    )


def consent_view(request: HttpRequest, platform: str) -> HttpResponse:
    """GET shows the account picker and scope toggles; POST approves or denies."""
    params = request.GET
    client_param = "client_key" if platform == Platform.TIKTOK else "client_id"
    client_id, _ = app_credentials(platform)
    if params.get(client_param) != client_id:
        return _error_page(request, platform, f"Invalid {client_param}: this app is not known.")
    redirect_uri = params.get("redirect_uri", "")
    problem = redirect_uri_refusal(platform, redirect_uri)
    if problem:
        return _error_page(request, platform, problem)
    state = params.get("state", "")
    if platform == Platform.TIKTOK and not params.get("code_challenge"):
        return _error_page(
            request,
            platform,
            "This app's request has no code_challenge: TikTok requires PKCE.",
            err_code=TIKTOK_PKCE_ERR_CODE,
            error_type=TIKTOK_PKCE_ERROR_TYPE,
        )
    if params.get("code_challenge") and params.get("code_challenge_method") != "S256":
        return _error_page(request, platform, "code_challenge_method must be S256.")
    if params.get("response_type") != "code":
        if platform == Platform.TIKTOK:
            return HttpResponseRedirect(
                with_query(
                    redirect_uri,
                    {
                        "error": "unsupported_response_type",
                        "error_description": "response_type must be code",
                        "state": state,
                    },
                )
            )
        return _error_page(request, platform, "response_type must be code.")
    scopes, unknown = parse_scopes(platform, params.get("scope", ""))
    if unknown or not scopes:
        if platform == Platform.TIKTOK:
            return HttpResponseRedirect(
                with_query(
                    redirect_uri,
                    {
                        "error": "invalid_scope",
                        "error_description": "Unknown scope: " + ",".join(unknown),
                        "state": state,
                    },
                )
            )
        return _error_page(request, platform, "Invalid Scopes: " + ", ".join(unknown or ["∅"]))

    accounts = list(SandboxAccount.objects.filter(platform=platform))
    required = required_scopes(platform)
    error = ""
    chosen_key = ""
    if request.method == "POST":
        if request.POST.get("decision") != "allow":
            return HttpResponseRedirect(denial_url(platform, redirect_uri, state))
        chosen_key = request.POST.get("account", "")
        account = next((a for a in accounts if a.key == chosen_key), None)
        if account is None:
            error = "Choose the account to sign in with."
        else:
            ticked = set(request.POST.getlist("scopes"))
            granted = [s for s in scopes if s in required or s in ticked]
            try:
                url, _code = grant(
                    account=account,
                    scopes=granted,
                    redirect_uri=redirect_uri,
                    state=state,
                    code_challenge=pkce_challenge(platform, params),
                )
            except GrantRefused as refused:
                # The refusal reaches the app, as the real platform's does, so the app can
                # explain the fix (e.g. switching to a professional account).
                url = denial_url(platform, redirect_uri, state, refused)
            return HttpResponseRedirect(url)
    scope_rows = [{"name": s, "required": s in required} for s in scopes]
    # §2.2: Meta's `force_reauth=true` and the documented `force_authentication=1` both ask for a
    # fresh sign-in. The sandbox keeps no session, so it always asks; it says so when told to.
    forced_login = platform == Platform.INSTAGRAM and (
        params.get("force_reauth", "").lower() in {"true", "1"}
        or params.get("force_authentication") == "1"
    )
    response = render(
        request,
        "emulator/consent.html",
        {
            "brand": BRAND[Platform(platform)],
            "platform": platform,
            "accounts": accounts,
            "chosen_key": chosen_key,
            "scope_rows": scope_rows,
            "redirect_host": redirect_uri.split("/")[2],
            "error": error,
            "forced_login": forced_login,
            "action": request.get_full_path(),
        },
    )
    # The site-wide CSP says `form-action 'self'`, and browsers apply it to the redirect that
    # follows a form submission: without this, approving could never reach an app on another
    # origin (as every real app is). Allow exactly the registered redirect URI's origin.
    parts = urlsplit(redirect_uri)
    response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}  # type: ignore[attr-defined]
    return response


def pkce_challenge(platform: str, params: Any) -> str:
    """TikTok keeps the S256 challenge with the code; Instagram Login has no PKCE."""
    return str(params.get("code_challenge", ""))[:128] if platform == Platform.TIKTOK else ""
