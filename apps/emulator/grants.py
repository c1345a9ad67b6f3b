"""What happens when a sandbox user approves the consent page (or the control API does it)."""

from __future__ import annotations

from django.conf import settings

from apps.emulator import tokens
from apps.emulator.common import with_query
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


class GrantRefused(Exception):
    """The chosen account cannot authorize this app (e.g. a personal Instagram account)."""


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
    if account.platform == Platform.INSTAGRAM and not account.is_professional:
        raise GrantRefused(
            "This is a personal account. Switch to a professional account to use this app."
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


def denial_url(platform: str, redirect_uri: str, state: str) -> str:
    """The callback for a user who pressed "Cancel" (PLATFORMS §1.2, §2.2)."""
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
    if state:
        params["state"] = state
    return with_query(redirect_uri, params)


def app_credentials(platform: str) -> tuple[str, str]:
    """The sandbox's one registered app per platform: the same credentials Switchboard uses."""
    if platform == Platform.TIKTOK:
        return settings.TIKTOK_CLIENT_KEY, settings.TIKTOK_CLIENT_SECRET
    return settings.INSTAGRAM_APP_ID, settings.INSTAGRAM_APP_SECRET
