"""One adapter per platform: what the connections app needs from it, in one shape.

The platform packages own the wire format; this module only picks the right calls and turns
their results into an `Identity` (who the token belongs to) and a `TokenSet`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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
