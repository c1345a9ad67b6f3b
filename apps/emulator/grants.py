"""What happens when a sandbox user approves the consent page (or the control API does it)."""

from __future__ import annotations

from django.conf import settings

from apps.emulator import tokens
from apps.emulator.common import redirect_uri_problem, with_query
from apps.emulator.models import Platform, SandboxAccount, SandboxToken
from apps.emulator.state import get_config

TIKTOK_SCOPES = [
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.upload",
    "video.publish",
]
TIKTOK_REQUIRED = {"user.info.basic"}
INSTAGRAM_SCOPES = [
    "instagram_business_basic",
    "instagram_business_content_publish",
    "instagram_business_manage_comments",
    "instagram_business_manage_messages",
    "instagram_business_manage_insights",
]
INSTAGRAM_REQUIRED = {"instagram_business_basic"}
# PLATFORMS §1.2: at most 10 registered redirect URIs per TikTok app.
TIKTOK_MAX_REDIRECT_URIS = 10
# `error_reason` of the callback when a personal Instagram account tries Business Login (§4.18).
# Not a documented value: Switchboard's callback recognises it to show how to switch.
NOT_PROFESSIONAL_ACCOUNT = "not_professional_account"


class GrantRefused(Exception):
    """The chosen account cannot authorize this app (e.g. a personal Instagram account).

    The platform sends the user back to the app with `error=access_denied`, `error_reason` and
    the message as `error_description`.
    """

    def __init__(self, reason: str, description: str) -> None:
        super().__init__(description)
        self.reason = reason
        self.description = description


def parse_scopes(platform: str, raw: str) -> tuple[list[str], list[str]]:
    """(known scopes in request order, unknown ones). TikTok separates with commas (§1.2),
    Instagram with commas or spaces (§2.2)."""
    text = raw.replace(" ", ",") if platform == Platform.INSTAGRAM else raw
    wanted = [s.strip() for s in text.split(",") if s.strip()]
    known = TIKTOK_SCOPES if platform == Platform.TIKTOK else INSTAGRAM_SCOPES
    ok = [s for s in dict.fromkeys(wanted) if s in known]
    return ok, [s for s in wanted if s not in known]


def required_scopes(platform: str) -> set[str]:
    return TIKTOK_REQUIRED if platform == Platform.TIKTOK else INSTAGRAM_REQUIRED


def pkce_refusal(platform: str, *, challenge: str, method: str) -> str | None:
    """Why the headless consent may not issue a code with these PKCE parameters, or None.

    As on the consent page: TikTok requires an S256 challenge (PLATFORMS §1.2), hex(SHA-256) of
    the verifier the token exchange must then send; Instagram Login has no PKCE.
    """
    if platform == Platform.TIKTOK and not challenge:
        return "code_challenge is required: TikTok requires PKCE (PLATFORMS §1.2)."
    if challenge and method != "S256":
        return "code_challenge_method must be S256."
    return None


def grant(
    *,
    account: SandboxAccount,
    scopes: list[str],
    redirect_uri: str,
    state: str,
    code_challenge: str = "",
) -> tuple[str, SandboxToken]:
    """Issue an authorization code and return (the callback URL to redirect to, the code).

    Signing in clears a checkpoint (PLATFORMS §2.9 subcode 459: "must log in to clear").
    TikTok's callback carries `code`, `scopes`, `state` (§1.2); Instagram's `code`, `state` and
    the `#_` fragment (§2.2).
    """
    if account.platform == Platform.TIKTOK and not code_challenge:
        # Both callers refuse such a request first (`pkce_refusal`); no code may skip PKCE.
        raise ValueError("A TikTok code needs a PKCE code_challenge.")
    if account.platform == Platform.INSTAGRAM and not account.is_professional:
        raise GrantRefused(
            NOT_PROFESSIONAL_ACCOUNT,
            "This is a personal account. Switch to a professional account to use this app.",
        )
    if account.checkpointed:
        account.checkpointed = False
        account.save(update_fields=["checkpointed"])
    config = get_config()
    if account.platform == Platform.TIKTOK:
        code = tokens.issue(
            kind=SandboxToken.Kind.TT_CODE,
            account=account,
            scopes=scopes,
            ttl=config.tiktok_code_ttl,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
        )
        # Real codes contain characters that need URL-encoding ("*", "!"): clients must decode
        # the callback value before sending it back (PLATFORMS §1.3 "code (URL-decoded)").
        code.value = code.value.replace("sbxcode-", "sbx*code!", 1)
        code.save(update_fields=["value"])
        url = with_query(
            redirect_uri, {"code": code.value, "scopes": ",".join(scopes), "state": state}
        )
        return url, code
    code = tokens.issue(
        kind=SandboxToken.Kind.IG_CODE,
        account=account,
        scopes=scopes,
        ttl=config.instagram_code_ttl,
        redirect_uri=redirect_uri,
    )
    params = {"code": code.value}
    if state:
        params["state"] = state
    return with_query(redirect_uri, params, fragment="_"), code


def denial_url(
    platform: str, redirect_uri: str, state: str, refused: GrantRefused | None = None
) -> str:
    """The callback for a user who pressed "Cancel" (PLATFORMS §1.2, §2.2), or whose account
    the platform refused (`refused`). Like Cancel in §2.2, Instagram adds no `#_` here."""
    if platform == Platform.TIKTOK:
        params = {
            "error": "access_denied",
            "error_description": "The user denied the authorization request.",
        }
    else:
        params = {
            "error": "access_denied",
            "error_reason": "user_denied",
            "error_description": "The user denied your request",
        }
    if refused is not None:
        params["error_description"] = refused.description
        if platform == Platform.INSTAGRAM:
            params["error_reason"] = refused.reason
    if state:
        params["state"] = state
    return with_query(redirect_uri, params)


def own_redirect_uri(platform: str) -> str:
    """Switchboard's own callback for the platform: always registered for the sandbox's app."""
    return settings.PUBLIC_BASE_URL + settings.OAUTH_REDIRECT_PATHS[platform]


def registered_redirect_uris(platform: str) -> list[str]:
    """The app's registered redirect URIs: Switchboard's own callback, then the extra ones
    registered through the control API (`<platform>_registered_redirect_uris`)."""
    config = get_config()
    extra = (
        config.tiktok_registered_redirect_uris
        if platform == Platform.TIKTOK
        else config.instagram_registered_redirect_uris
    )
    return list(dict.fromkeys([own_redirect_uri(platform), *extra]))


def redirect_uri_refusal(platform: str, uri: str) -> str | None:
    """Why `uri` may not be redirected to for this app, or None.

    Like the real platforms, only a registered URI, matched exactly — no prefix match, trailing
    slash and query included (PLATFORMS §1.2, §2.2). Anything else would make the sandbox, which
    shares the app's origin in the demo, an open redirect.
    """
    problem = redirect_uri_problem(uri, allow_query=platform != Platform.TIKTOK)
    if problem:
        return problem
    if uri not in registered_redirect_uris(platform):
        return "redirect_uri is not registered for this app (it must match one exactly)"
    return None


def app_credentials(platform: str) -> tuple[str, str]:
    """The sandbox's one registered app per platform: the same credentials Switchboard uses."""
    if platform == Platform.TIKTOK:
        return settings.TIKTOK_CLIENT_KEY, settings.TIKTOK_CLIENT_SECRET
    return settings.INSTAGRAM_APP_ID, settings.INSTAGRAM_APP_SECRET
