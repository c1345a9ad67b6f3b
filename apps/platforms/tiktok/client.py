"""TikTok Login Kit, Display API and Content Posting API calls (PLATFORMS §1).

Every function takes keyword arguments, reads base URLs from settings at call time, goes through
`apps.common.http`, and returns a frozen dataclass or raises `PlatformError`.
The chunked upload lives in `upload.py`.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, Literal
from urllib.parse import urlencode

from django.conf import settings

from apps.common.http import Response
from apps.platforms.errors import Category, Platform, PlatformError
from apps.platforms.tiktok import rules
from apps.platforms.tiktok.errors import (
    INVALID_PARAMS_CODES,
    chunk_plan_error,
    error_from_response,
)
from apps.platforms.tiktok.types import (
    CreatorInfo,
    PostInfo,
    PublishInit,
    PublishStatus,
    TikTokUser,
    TikTokVideo,
    VideoPage,
)
from apps.platforms.tiktok.upload import plan_chunks
from apps.platforms.transport import as_int, base_url, json_object, send
from apps.platforms.types import TokenSet, split_scopes

AUTHORIZE_PATH = "/v2/auth/authorize/"  # §1.1: v1 /auth/authorize/ is retired for web
TOKEN_PATH = "/v2/oauth/token/"
REVOKE_PATH = "/v2/oauth/revoke/"
USER_INFO_PATH = "/v2/user/info/"
CREATOR_INFO_PATH = "/v2/post/publish/creator_info/query/"
DIRECT_POST_INIT_PATH = "/v2/post/publish/video/init/"
STATUS_FETCH_PATH = "/v2/post/publish/status/fetch/"
CANCEL_PATH = "/v2/post/publish/cancel/"
VIDEO_LIST_PATH = "/v2/video/list/"

# §1.2: what Switchboard asks for; users can untick toggleable scopes, so check `TokenSet.scopes`.
SCOPES: tuple[str, ...] = ("user.info.basic", "user.info.profile", "video.publish", "video.list")
PUBLISH_SCOPES = frozenset({"user.info.basic", "video.publish"})
USER_FIELDS = "open_id,union_id,avatar_url,display_name,username"  # §1.5
# The cheapest liveness probe (§4 "Health probes").
PROBE_FIELDS = "open_id"
VIDEO_FIELDS = "id,title,create_time,share_url,duration,cover_image_url"

# [judgment] §1.2: several implementations report TikTok wants hex(SHA-256(verifier)) rather
# than RFC 7636's base64url. The web doc calls PKCE optional, but since mid-2026 TikTok refuses
# the authorize page without a challenge (errCode=10007), so `authorize_url` requires one.
PKCE_CHALLENGE_ENCODING: Literal["hex"] = "hex"

JSON_HEADERS = {"Content-Type": "application/json; charset=UTF-8"}  # §1.6


# --- OAuth (§1.2-§1.4) -----------------------------------------------------------------------


def pkce_verifier() -> str:
    """A fresh RFC 7636 code verifier (64 unreserved characters)."""
    return secrets.token_urlsafe(48)


def pkce_challenge(*, verifier: str) -> str:
    """The code challenge TikTok expects for `verifier` (encoding: PKCE_CHALLENGE_ENCODING)."""
    return hashlib.sha256(verifier.encode("ascii")).hexdigest()


def authorize_url(
    *,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    scopes: tuple[str, ...] | list[str] = SCOPES,
    disable_auto_auth: bool = False,
) -> str:
    """The Login Kit consent URL (§1.2); `state` is the caller's CSRF value.

    `code_challenge` is `pkce_challenge(verifier=…)`: TikTok refuses the page without one.
    """
    if not code_challenge:
        raise ValueError("TikTok requires a PKCE code_challenge (PLATFORMS §1.2)")
    params: dict[str, str] = {
        "client_key": settings.TIKTOK_CLIENT_KEY,  # `client_key`, not `client_id`
        "scope": ",".join(scopes),
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if disable_auto_auth:
        params["disable_auto_auth"] = "1"
    return f"{base_url('tiktok_auth')}{AUTHORIZE_PATH}?{urlencode(params)}"


def exchange_code(*, code: str, redirect_uri: str, code_verifier: str | None = None) -> TokenSet:
    """Trade the callback's `code` for tokens (§1.3)."""
    form = {
        "client_key": settings.TIKTOK_CLIENT_KEY,
        "client_secret": settings.TIKTOK_CLIENT_SECRET,
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
    }
    if code_verifier:
        form["code_verifier"] = code_verifier
    return _token_call(form)


def refresh_tokens(*, refresh_token: str) -> TokenSet:
    """New tokens for a refresh token (§1.3).

    The refresh token rotates: persist the returned one atomically and serialize refreshes per
    account, because the old one may stop working at once.
    """
    return _token_call(
        {
            "client_key": settings.TIKTOK_CLIENT_KEY,
            "client_secret": settings.TIKTOK_CLIENT_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }
    )


def revoke_token(*, access_token: str) -> None:
    """Revoke the user's grant at TikTok (§1.4); `authorization.removed` reason 5 follows."""
    response = send(
        Platform.TIKTOK,
        "POST",
        base_url("tiktok_api") + REVOKE_PATH,
        data={
            "client_key": settings.TIKTOK_CLIENT_KEY,
            "client_secret": settings.TIKTOK_CLIENT_SECRET,
            "token": access_token,
        },
    )
    _raise_for(response)


def _token_call(form: dict[str, str]) -> TokenSet:
    response = send(Platform.TIKTOK, "POST", base_url("tiktok_api") + TOKEN_PATH, data=form)
    body = _raise_for(response)
    access_token = body.get("access_token")
    if not access_token:
        raise _unexpected("the token response had no access token")
    # §1.3: lifetimes differ between doc versions, so only the response's numbers are used.
    return TokenSet(
        access_token=str(access_token),
        expires_in=as_int(body.get("expires_in")),
        refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
        refresh_expires_in=as_int(body.get("refresh_expires_in")),
        account_id=str(body.get("open_id") or ""),
        scopes=split_scopes(body.get("scope")),
        token_type=str(body.get("token_type") or "Bearer"),
    )


# --- Display API (§1.5, §1.7) ----------------------------------------------------------------


def get_user_info(*, access_token: str, fields: str = USER_FIELDS) -> TikTokUser:
    """The connected user's profile (§1.5); fields beyond the granted scopes fail with 400."""
    response = send(
        Platform.TIKTOK,
        "GET",
        base_url("tiktok_api") + USER_INFO_PATH,
        params={"fields": fields},
        headers=_bearer(access_token),
    )
    user = _data(response).get("user")
    if not isinstance(user, dict) or not user.get("open_id"):
        raise _unexpected("the user info response had no user")
    return TikTokUser(
        open_id=str(user["open_id"]),
        union_id=str(user.get("union_id") or ""),
        display_name=str(user.get("display_name") or ""),
        avatar_url=str(user.get("avatar_url") or ""),
        username=str(user.get("username") or ""),
    )


def list_videos(
    *, access_token: str, cursor: int | None = None, max_count: int = 20, fields: str = VIDEO_FIELDS
) -> VideoPage:
    """One page of the user's public videos, newest first (§1.7; `max_count` ≤ 20)."""
    body: dict[str, Any] = {"max_count": min(max_count, 20)}
    if cursor is not None:
        body["cursor"] = cursor
    response = send(
        Platform.TIKTOK,
        "POST",
        base_url("tiktok_api") + VIDEO_LIST_PATH,
        params={"fields": fields},
        json=body,
        headers=_bearer(access_token) | JSON_HEADERS,
    )
    data = _data(response)
    videos = tuple(
        TikTokVideo(
            id=str(item.get("id") or ""),
            title=str(item.get("title") or ""),
            create_time=as_int(item.get("create_time")),
            share_url=str(item.get("share_url") or ""),
            duration=as_int(item.get("duration")),
            cover_image_url=str(item.get("cover_image_url") or ""),
        )
        for item in data.get("videos") or []
        if isinstance(item, dict)
    )
    return VideoPage(
        videos=videos,
        cursor=as_int(data.get("cursor")),
        has_more=bool(data.get("has_more")),
    )


# --- Content Posting API (§1.6) --------------------------------------------------------------


def query_creator_info(*, access_token: str) -> CreatorInfo:
    """The creator's posting options (§1.6(a)); spam/cap codes arrive here with HTTP 200."""
    response = send(
        Platform.TIKTOK,
        "POST",
        base_url("tiktok_api") + CREATOR_INFO_PATH,
        headers=_bearer(access_token) | JSON_HEADERS,
    )
    data = _data(response)
    return CreatorInfo(
        username=str(data.get("creator_username") or ""),
        nickname=str(data.get("creator_nickname") or ""),
        avatar_url=str(data.get("creator_avatar_url") or ""),
        privacy_level_options=tuple(str(o) for o in data.get("privacy_level_options") or []),
        comment_disabled=bool(data.get("comment_disabled")),
        duet_disabled=bool(data.get("duet_disabled")),
        stitch_disabled=bool(data.get("stitch_disabled")),
        max_video_post_duration_sec=as_int(data.get("max_video_post_duration_sec"))
        or rules.DEFAULT_CREATOR_MAX_DURATION_S,
    )


def init_file_post(
    *,
    access_token: str,
    post_info: PostInfo,
    video_size: int,
    chunk_size: int = rules.DEFAULT_CHUNK_BYTES,
) -> PublishInit:
    """Start a FILE_UPLOAD Direct Post (§1.6(b)); upload with `upload.upload_video` within 1 h.

    Files up to 64,000,000 bytes go as one chunk; `chunk_size` only splits larger ones (§1.6(d)).
    An `invalid_params` refusal names the chunk plan we declared.
    """
    plan = plan_chunks(video_size=video_size, chunk_size=chunk_size)
    source_info = {
        "source": "FILE_UPLOAD",
        "video_size": plan.video_size,
        "chunk_size": plan.chunk_size,
        "total_chunk_count": plan.total_chunk_count,
    }
    try:
        data = _init(access_token, post_info, source_info)
    except PlatformError as exc:
        if exc.code not in INVALID_PARAMS_CODES:
            raise
        raise chunk_plan_error(
            exc,
            video_size=plan.video_size,
            chunk_size=plan.chunk_size,
            total_chunk_count=plan.total_chunk_count,
        ) from exc
    upload_url = data.get("upload_url")
    if not upload_url:
        raise _unexpected("the Direct Post init response had no upload URL")
    return PublishInit(publish_id=str(data["publish_id"]), upload_url=str(upload_url), plan=plan)


def init_url_post(*, access_token: str, post_info: PostInfo, video_url: str) -> PublishInit:
    """Start a PULL_FROM_URL Direct Post (§1.6(b)(e)): verified https prefix, no redirects."""
    data = _init(access_token, post_info, {"source": "PULL_FROM_URL", "video_url": video_url})
    return PublishInit(publish_id=str(data["publish_id"]))


def fetch_status(*, access_token: str, publish_id: str) -> PublishStatus:
    """Where a publish stands (§1.6(f)); a FAILED status is data, not an exception."""
    response = send(
        Platform.TIKTOK,
        "POST",
        base_url("tiktok_api") + STATUS_FETCH_PATH,
        json={"publish_id": publish_id},
        headers=_bearer(access_token) | JSON_HEADERS,
    )
    data = _data(response)
    status = data.get("status")
    if not status:
        raise _unexpected("the status response had no status")
    return PublishStatus(
        status=str(status),
        fail_reason=str(data.get("fail_reason") or ""),
        # "publicaly" (sic) is the documented spelling.
        public_post_ids=tuple(str(i) for i in data.get("publicaly_available_post_id") or []),
        uploaded_bytes=as_int(data.get("uploaded_bytes")),
        downloaded_bytes=as_int(data.get("downloaded_bytes")),
    )


def cancel_publish(*, access_token: str, publish_id: str) -> None:
    """Ask TikTok to cancel a pending publish (best effort: `publish_not_cancellable`)."""
    response = send(
        Platform.TIKTOK,
        "POST",
        base_url("tiktok_api") + CANCEL_PATH,
        json={"publish_id": publish_id},
        headers=_bearer(access_token) | JSON_HEADERS,
    )
    _data(response)


def _init(access_token: str, post_info: PostInfo, source_info: dict[str, Any]) -> dict[str, Any]:
    response = send(
        Platform.TIKTOK,
        "POST",
        base_url("tiktok_api") + DIRECT_POST_INIT_PATH,
        json={"post_info": post_info.as_json(), "source_info": source_info},
        headers=_bearer(access_token) | JSON_HEADERS,
    )
    data = _data(response)
    if not data.get("publish_id"):
        raise _unexpected("the Direct Post init response had no publish id")
    return data


# --- Wire helpers ----------------------------------------------------------------------------


def _bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def _raise_for(response: Response) -> dict[str, Any]:
    error = error_from_response(response)
    if error is not None:
        raise error
    return json_object(response)


def _data(response: Response) -> dict[str, Any]:
    data = _raise_for(response).get("data")
    return data if isinstance(data, dict) else {}


def _unexpected(what: str) -> PlatformError:
    return PlatformError(
        platform=Platform.TIKTOK,
        category=Category.TRANSIENT,
        code="unexpected_response",
        message=f"TikTok sent an unexpected answer ({what}); Switchboard will try again.",
        outcome_unknown=True,
    )
