"""Instagram API with Instagram Login: OAuth, profile and Reels publishing (PLATFORMS §2).

Every function takes keyword arguments, reads base URLs and the Graph version from settings at
call time, goes through `apps.common.http`, and returns a frozen dataclass or raises
`PlatformError`. The access token travels as the `access_token` query parameter, the one form
every endpoint documents (§2.4-§2.7); the HTTP seam redacts it from logs.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone

from apps.common.http import Response
from apps.platforms.errors import Category, Platform, PlatformError
from apps.platforms.instagram import rules
from apps.platforms.instagram.errors import ERRORS_BY_CODE, error_from_response
from apps.platforms.instagram.types import (
    Container,
    ContainerStatus,
    InstagramProfile,
    MediaInfo,
    PublishedMedia,
    PublishingLimit,
)
from apps.platforms.transport import as_int, base_url, json_object, send
from apps.platforms.types import TokenSet, split_scopes

AUTHORIZE_PATH = "/oauth/authorize"  # on instagram_auth (§2.2)
CODE_EXCHANGE_PATH = "/oauth/access_token"  # on instagram_api (§2.3)
LONG_LIVED_PATH = "/access_token"  # on instagram_graph, unversioned (§2.4)
REFRESH_PATH = "/refresh_access_token"  # unversioned (§2.5)
PERMISSIONS_PATH = "/me/permissions"  # unversioned, unverified [3p] (§2.12)

# §2.2: the old `business_*` scopes died 2025-01-27.
SCOPES: tuple[str, ...] = ("instagram_business_basic", "instagram_business_content_publish")
PUBLISH_SCOPES = frozenset(SCOPES)
PROFILE_FIELDS = (
    "user_id,username,name,account_type,profile_picture_url,followers_count,follows_count,"
    "media_count"
)
# §4 "Health probes" asks for user_id,username; account_type costs nothing more on the same call
# and reveals an account switched back to personal (§4.18), which can no longer publish.
PROBE_FIELDS = "user_id,username,account_type"
# §2.3: short-lived tokens last one hour; the exchange response does not say so itself.
SHORT_LIVED_TOKEN_TTL_S = 3600


# --- OAuth (§2.2-§2.5) -----------------------------------------------------------------------


def authorize_url(
    *,
    redirect_uri: str,
    state: str,
    scopes: tuple[str, ...] | list[str] = SCOPES,
    force_authentication: bool = False,
    enable_fb_login: bool | None = None,
) -> str:
    """The Business Login consent URL (§2.2); `client_id` is the Instagram App ID.

    `force_authentication` asks for a fresh sign-in (e.g. to connect a different account).
    """
    params: dict[str, str] = {
        "client_id": settings.INSTAGRAM_APP_ID,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": ",".join(scopes),
        "state": state,
    }
    if force_authentication:
        # §2.2 [3p]: Meta's own generated login URL uses `force_reauth=true`, and a 2026-08
        # report says Meta changed "the reauthentication parameter"; the documented
        # `force_authentication=1` rides along, harmless where it is ignored.
        params["force_reauth"] = "true"
        params["force_authentication"] = "1"
    if enable_fb_login is not None:
        params["enable_fb_login"] = "1" if enable_fb_login else "0"
    return f"{base_url('instagram_auth')}{AUTHORIZE_PATH}?{urlencode(params)}"


def exchange_code(*, code: str, redirect_uri: str) -> TokenSet:
    """Trade the callback `code` for a one-hour token (§2.3); accepts both response shapes.

    `scopes` is None when the legacy flat shape omits `permissions`.
    """
    response = send(
        Platform.INSTAGRAM,
        "POST",
        base_url("instagram_api") + CODE_EXCHANGE_PATH,
        data={
            "client_id": settings.INSTAGRAM_APP_ID,
            "client_secret": settings.INSTAGRAM_APP_SECRET,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            # §2.2: the callback appends `#_`; tolerate a caller that kept it.
            "code": code.removesuffix("#_"),
        },
    )
    body = _raise_for(response)
    # Current docs wrap the grant in `data: [ {...} ]`; the legacy flat shape still appears.
    data = body.get("data")
    grant: Any = data[0] if isinstance(data, list) and data else body
    if not isinstance(grant, dict) or not grant.get("access_token"):
        raise _unexpected("the code exchange returned no access token")
    return TokenSet(
        access_token=str(grant["access_token"]),
        expires_in=as_int(grant.get("expires_in")) or SHORT_LIVED_TOKEN_TTL_S,
        account_id=str(grant.get("user_id") or ""),  # an int in the legacy shape
        scopes=split_scopes(grant.get("permissions")),
        token_type="bearer",
    )


def exchange_long_lived(*, short_lived_token: str) -> TokenSet:
    """Swap a short-lived token for a ≈60-day one (§2.4); server side only (app secret)."""
    response = send(
        Platform.INSTAGRAM,
        "GET",
        base_url("instagram_graph") + LONG_LIVED_PATH,
        params={
            "grant_type": "ig_exchange_token",
            "client_secret": settings.INSTAGRAM_APP_SECRET,
            "access_token": short_lived_token,
        },
    )
    return _long_lived(response)


def refresh_long_lived(
    *, access_token: str, issued_at: datetime, now: datetime | None = None
) -> TokenSet:
    """A fresh 60-day token (§2.5); refused locally while the token is under 24 hours old.

    A young token is "not yet", never "dead" (§4.3): the refusal is a transient PlatformError
    with `retry_after` set to the seconds left, and no request is made.
    """
    current = now or timezone.now()
    too_young_for = timedelta(seconds=rules.REFRESH_MIN_AGE_S) - (current - issued_at)
    if too_young_for > timedelta(0):
        raise PlatformError.from_row(
            ERRORS_BY_CODE["token_too_young"],
            platform=Platform.INSTAGRAM,
            retry_after=math.ceil(too_young_for.total_seconds()),
        )
    response = send(
        Platform.INSTAGRAM,
        "GET",
        base_url("instagram_graph") + REFRESH_PATH,
        params={"grant_type": "ig_refresh_token", "access_token": access_token},
    )
    return _long_lived(response)


def delete_permissions(*, access_token: str) -> bool:
    """Best-effort app removal (§2.12, undocumented for IG Login); True if Instagram agreed.

    Never raises: the caller wipes the tokens locally whatever happens.
    """
    try:
        response = send(
            Platform.INSTAGRAM,
            "DELETE",
            base_url("instagram_graph") + PERMISSIONS_PATH,
            params={"access_token": access_token},
        )
    except PlatformError:
        return False
    body = response.json()
    return response.ok and (
        body is True or (isinstance(body, dict) and body.get("success") is True)
    )


def _long_lived(response: Response) -> TokenSet:
    body = _raise_for(response)
    if not body.get("access_token"):
        raise _unexpected("the token response had no access token")
    return TokenSet(
        access_token=str(body["access_token"]),
        expires_in=as_int(body.get("expires_in")),
        token_type=str(body.get("token_type") or "bearer"),
    )


# --- Graph (§2.6, §2.7) ----------------------------------------------------------------------


def get_me(*, access_token: str, fields: str = PROFILE_FIELDS) -> InstagramProfile:
    """The connected professional account (§2.6); also the health probe with PROBE_FIELDS."""
    body = _graph(access_token, "GET", "me", params={"fields": fields})
    if not body.get("id") and not body.get("user_id"):
        raise _unexpected("the profile response had no id")
    return InstagramProfile(
        id=str(body.get("id") or ""),
        user_id=str(body.get("user_id") or ""),
        username=str(body.get("username") or ""),
        name=str(body.get("name") or ""),
        account_type=str(body.get("account_type") or ""),
        profile_picture_url=str(body.get("profile_picture_url") or ""),
        followers_count=as_int(body.get("followers_count")),
        follows_count=as_int(body.get("follows_count")),
        media_count=as_int(body.get("media_count")),
    )


def create_reel_container(
    *,
    access_token: str,
    ig_user_id: str,
    video_url: str,
    caption: str = "",
    share_to_feed: bool | None = None,
    cover_url: str | None = None,
    thumb_offset_ms: int | None = None,
    collaborators: tuple[str, ...] = (),
    is_ai_generated: bool | None = None,
) -> Container:
    """Create a REELS container that Meta fills from `video_url` (§2.7 step 1).

    Create it at publish time: containers expire after 24 h.
    """
    fields: dict[str, Any] = {"media_type": "REELS", "video_url": video_url}
    if caption:
        fields["caption"] = caption
    if share_to_feed is not None:
        fields["share_to_feed"] = share_to_feed
    if cover_url:
        fields["cover_url"] = cover_url  # overrides thumb_offset
    if thumb_offset_ms is not None:
        fields["thumb_offset"] = thumb_offset_ms
    if collaborators:
        fields["collaborators"] = list(collaborators)
    if is_ai_generated is not None:
        fields["is_ai_generated"] = is_ai_generated
    # JSON body, not query: a 2200-character caption would make an unwieldy URL.
    body = _graph(access_token, "POST", f"{ig_user_id}/media", json=fields)
    return Container(id=_required_id(body, "container"))


def get_container_status(*, access_token: str, container_id: str) -> ContainerStatus:
    """Poll a container (§2.7 step 3); ERROR/EXPIRED are data here, see `.error`."""
    body = _graph(access_token, "GET", container_id, params={"fields": "status_code,status"})
    if not body.get("status_code"):
        raise _unexpected("the container status had no status_code")
    return ContainerStatus(
        id=str(body.get("id") or container_id),
        status_code=str(body["status_code"]),
        status=str(body.get("status") or ""),
    )


def publish_container(*, access_token: str, ig_user_id: str, container_id: str) -> PublishedMedia:
    """Publish a FINISHED container (§2.7 step 4); counts against the daily quota."""
    body = _graph(
        access_token, "POST", f"{ig_user_id}/media_publish", params={"creation_id": container_id}
    )
    return PublishedMedia(id=_required_id(body, "media"))


def get_media(*, access_token: str, media_id: str) -> MediaInfo:
    """A published media's permalink and type (§2.7 step 4)."""
    body = _graph(
        access_token,
        "GET",
        media_id,
        params={"fields": "permalink,media_type,media_product_type"},
    )
    return MediaInfo(
        id=str(body.get("id") or media_id),
        permalink=str(body.get("permalink") or ""),
        media_type=str(body.get("media_type") or ""),
        media_product_type=str(body.get("media_product_type") or ""),
    )


def get_publishing_limit(*, access_token: str, ig_user_id: str) -> PublishingLimit:
    """Today's publish quota (§2.7 step 5)."""
    body = _graph(
        access_token,
        "GET",
        f"{ig_user_id}/content_publishing_limit",
        params={"fields": "quota_usage,config"},
    )
    rows = body.get("data")
    row = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else {}
    raw_config = row.get("config")
    config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
    return PublishingLimit(
        quota_usage=as_int(row.get("quota_usage")) or 0,
        quota_total=as_int(config.get("quota_total")) or rules.DEFAULT_PUBLISH_QUOTA,
        quota_duration=as_int(config.get("quota_duration")) or rules.QUOTA_WINDOW_S,
    )


# --- Wire helpers ----------------------------------------------------------------------------


def graph_url(path: str) -> str:
    """A versioned Graph URL, e.g. https://graph.instagram.com/v25.0/me."""
    return f"{base_url('instagram_graph')}/{settings.INSTAGRAM_GRAPH_VERSION}/{path.lstrip('/')}"


def _graph(
    access_token: str,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    json: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response = send(
        Platform.INSTAGRAM,
        method,
        graph_url(path),
        params={**(params or {}), "access_token": access_token},
        json=json,
    )
    return _raise_for(response)


def _raise_for(response: Response) -> dict[str, Any]:
    error = error_from_response(response)
    if error is not None:
        raise error
    return json_object(response)


def _required_id(body: dict[str, Any], what: str) -> str:
    if not body.get("id"):
        raise _unexpected(f"the {what} response had no id")
    return str(body["id"])


def _unexpected(what: str) -> PlatformError:
    return PlatformError(
        platform=Platform.INSTAGRAM,
        category=Category.TRANSIENT,
        code="unexpected_response",
        message=f"Instagram sent an unexpected answer ({what}); Switchboard will try again.",
        outcome_unknown=True,
    )
