"""One adapter per platform: what the connections app needs from it, in one shape.

The platform packages own the wire format; this module only picks the right calls and turns
their results into an `Identity` (who the token belongs to) and a `TokenSet`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings

from apps.platforms.instagram import client as instagram
from apps.platforms.instagram import rules as instagram_rules
from apps.platforms.tiktok import client as tiktok
from apps.platforms.types import TokenSet


@dataclass(frozen=True)
class Identity:
    external_id: str
    handle: str = ""
    display_name: str = ""
    avatar_url: str = ""
    account_type: str = ""
    app_scoped_id: str = ""
    professional: bool = True
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Grant:
    tokens: TokenSet
    identity: Identity
    scopes: frozenset[str] | None


PUBLISH_SCOPES = {"tiktok": tiktok.PUBLISH_SCOPES, "instagram": instagram.PUBLISH_SCOPES}


def redirect_uri(platform: str) -> str:
    return settings.PUBLIC_BASE_URL + settings.OAUTH_REDIRECT_PATHS[platform]


def authorize_url(*, platform: str, state: str, verifier: str, force_login: bool) -> str:
    if platform == "tiktok":
        return tiktok.authorize_url(
            redirect_uri=redirect_uri(platform),
            state=state,
            code_challenge=tiktok.pkce_challenge(verifier=verifier),
            disable_auto_auth=force_login,
        )
    # Instagram Login documents no PKCE; the state alone binds the attempt (PLATFORMS §2.2).
    return instagram.authorize_url(
        redirect_uri=redirect_uri(platform), state=state, force_authentication=force_login
    )


def exchange(*, platform: str, code: str, verifier: str) -> Grant:
    """Code → tokens → profile. Raises PlatformError."""
    if platform == "tiktok":
        tokens = tiktok.exchange_code(
            code=code, redirect_uri=redirect_uri(platform), code_verifier=verifier
        )
        return Grant(
            tokens=tokens, identity=identify(platform, tokens.access_token), scopes=tokens.scopes
        )
    short = instagram.exchange_code(code=code, redirect_uri=redirect_uri(platform))
    long_lived = instagram.exchange_long_lived(short_lived_token=short.access_token)
    identity = identify(platform, long_lived.access_token)
    if short.account_id and not identity.app_scoped_id:
        identity = Identity(**{**identity.__dict__, "app_scoped_id": short.account_id})
    return Grant(tokens=long_lived, identity=identity, scopes=short.scopes)


def identify(platform: str, access_token: str) -> Identity:
    if platform == "tiktok":
        user = tiktok.get_user_info(access_token=access_token)
        return Identity(
            external_id=user.open_id,
            handle=user.username,
            display_name=user.display_name,
            avatar_url=user.avatar_url,
            account_type="creator",
        )
    profile = instagram.get_me(access_token=access_token)
    return Identity(
        external_id=profile.user_id,
        app_scoped_id=profile.id,
        handle=profile.username,
        display_name=profile.name,
        avatar_url=profile.profile_picture_url,
        account_type=profile.account_type,
        professional=profile.is_professional,
    )


@dataclass(frozen=True)
class Probe:
    external_id: str
    professional: bool = True


def probe(platform: str, access_token: str) -> Probe:
    """The cheapest identity call (PLATFORMS §4 health probes)."""
    if platform == "tiktok":
        user = tiktok.get_user_info(access_token=access_token, fields=tiktok.PROBE_FIELDS)
        return Probe(external_id=user.open_id)
    profile = instagram.get_me(access_token=access_token, fields=instagram.PROBE_FIELDS)
    return Probe(external_id=profile.user_id, professional=profile.is_professional)


def reactive_refresh(platform: str) -> bool:
    """Whether an "expired" answer is routine and fixed by a refresh (PLATFORMS §4.1): TikTok's
    access tokens live hours and refresh; an expired Instagram token is unrecoverable."""
    return platform == "tiktok"


@dataclass(frozen=True)
class CapabilityReport:
    """What the platform says about the account's ability to publish right now."""

    # Posts left in the platform's rolling window, when the platform reports it (Instagram).
    quota_left: int | None = None
    quota_window_s: int | None = None
    # The creator account is private (TikTok: no PUBLIC_TO_EVERYONE option), when known.
    private: bool | None = None
    # Shown on the account page: caps, privacy options, maximum duration. Never a token.
    detail: dict[str, Any] = field(default_factory=dict)


# Whether the capability probe would report a posting ban. TikTok's creator info does
# (spam_risk_user_banned_from_posting, PLATFORMS §1.6(a)); Instagram's publishing limit doesn't,
# so an Instagram restriction (25/2207050) is only learned from a publishing call.
PROBE_SEES_BANS = {"tiktok": True, "instagram": False}


def capability_probe(platform: str, access_token: str, *, ig_user_id: str) -> CapabilityReport:
    """Ask the platform whether the account can publish (PLATFORMS §1.6(a), §2.7 step 5).
    Raises PlatformError: bans and caps arrive as errors (TikTok answers them with HTTP 200)."""
    if platform == "tiktok":
        creator = tiktok.query_creator_info(access_token=access_token)
        return CapabilityReport(
            private=creator.is_private,
            detail={
                "nickname": creator.nickname,
                "privacy_level_options": list(creator.privacy_level_options),
                "max_video_post_duration_sec": creator.max_video_post_duration_sec,
                "comment_disabled": creator.comment_disabled,
                "duet_disabled": creator.duet_disabled,
                "stitch_disabled": creator.stitch_disabled,
            },
        )
    limit = instagram.get_publishing_limit(access_token=access_token, ig_user_id=ig_user_id)
    return CapabilityReport(
        quota_left=limit.remaining,
        quota_window_s=limit.quota_duration,
        detail={
            "quota_usage": limit.quota_usage,
            "quota_total": limit.quota_total,
            "quota_duration": limit.quota_duration,
        },
    )


def refresh(
    *, platform: str, access_token: str, refresh_token: str, issued_at: datetime
) -> TokenSet:
    if platform == "tiktok":
        return tiktok.refresh_tokens(refresh_token=refresh_token)
    return instagram.refresh_long_lived(access_token=access_token, issued_at=issued_at)


def revoke(*, platform: str, access_token: str) -> bool:
    """Revoke at the platform. TikTok has an endpoint; Instagram is best effort (§2.12)."""
    if platform == "tiktok":
        tiktok.revoke_token(access_token=access_token)
        return True
    return instagram.delete_permissions(access_token=access_token)


PROFESSIONAL_TYPES = instagram_rules.PROFESSIONAL_ACCOUNT_TYPES
