"""TikTok Display API bits: user info and video list (PLATFORMS §1.5, §1.7), plus the sandbox's
avatar images and post pages that returned URLs point to."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.emulator.common import json_body
from apps.emulator.faults import fault_point, tiktok_api_error
from apps.emulator.models import LedgerEntry, Platform, SandboxAccount
from apps.emulator.tiktok.auth import authenticate, ok

# field -> scope that grants it (§1.2 scopes list; /doc/tiktok-api-v2-get-user-info).
USER_FIELDS = {
    "open_id": "user.info.basic",
    "union_id": "user.info.basic",
    "avatar_url": "user.info.basic",
    "avatar_url_100": "user.info.basic",
    "avatar_large_url": "user.info.basic",
    "display_name": "user.info.basic",
    "bio_description": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "is_verified": "user.info.profile",
    "username": "user.info.profile",
    "follower_count": "user.info.stats",
    "following_count": "user.info.stats",
    "likes_count": "user.info.stats",
    "video_count": "user.info.stats",
}
VIDEO_FIELDS = {
    "id", "create_time", "cover_image_url", "share_url", "video_description", "duration",
    "height", "width", "title", "embed_html", "embed_link", "like_count", "comment_count",
    "share_count", "view_count",
}  # fmt: skip


def _fields(request: HttpRequest) -> list[str]:
    return [f.strip() for f in request.GET.get("fields", "").split(",") if f.strip()]


def _profile_url(request: HttpRequest, account: SandboxAccount) -> str:
    return request.build_absolute_uri(reverse("emulator:tiktok:profile", args=[account.username]))


@require_GET
@fault_point("tiktok.user_info")
def user_info(request: HttpRequest) -> HttpResponse:
    """GET /v2/user/info/?fields=… — 400 scope_permission_missed for ungranted fields."""
    token, error = authenticate(request, set())
    if error:
        return error
    assert token is not None
    fields = _fields(request)
    if not fields or any(f not in USER_FIELDS for f in fields):
        return tiktok_api_error(400, "invalid_params", "fields is missing or has unknown names.")
    granted = set(token.scope_list)
    if any(USER_FIELDS[f] not in granted for f in fields):
        return tiktok_api_error(
            400, "scope_permission_missed", "Some fields need scopes the user did not grant."
        )
    account = token.account
    avatar = request.build_absolute_uri(reverse("emulator:tiktok:avatar", args=[account.open_id]))
    posts = LedgerEntry.objects.filter(account=account).count()
    values: dict[str, Any] = {
        "open_id": account.open_id,
        "union_id": account.union_id,
        "avatar_url": avatar,
        "avatar_url_100": avatar,
        "avatar_large_url": avatar,
        "display_name": account.display_name,
        "bio_description": account.description,
        "profile_deep_link": _profile_url(request, account),
        "is_verified": account.is_verified,
        "username": account.username,
        "follower_count": account.followers_count,
        "following_count": account.follows_count,
        "likes_count": 0,
        "video_count": posts,
    }
    return ok({"user": {f: values[f] for f in fields}})


@csrf_exempt
@require_POST
@fault_point("tiktok.video_list")
def video_list(request: HttpRequest) -> HttpResponse:
    """POST /v2/video/list/?fields=… body {max_count ≤20, cursor ms} (§1.7)."""
    token, error = authenticate(request, {"video.list"})
    if error:
        return error
    assert token is not None
    fields = _fields(request)
    body = json_body(request)
    if not fields or any(f not in VIDEO_FIELDS for f in fields) or body is None:
        return tiktok_api_error(400, "invalid_params", "fields or body are invalid.")
    max_count = body.get("max_count", 10)
    cursor = body.get("cursor")
    if not isinstance(max_count, int) or not 1 <= max_count <= 20:
        return tiktok_api_error(400, "invalid_params", "max_count must be 1-20.")
    posts = LedgerEntry.objects.filter(platform=Platform.TIKTOK, account=token.account)
    if isinstance(cursor, int) and cursor > 0:
        posts = posts.filter(published_at__lt=dt.datetime.fromtimestamp(cursor / 1000, tz=dt.UTC))
    page = list(posts.order_by("-published_at", "-id")[: max_count + 1])
    has_more = len(page) > max_count
    page = page[:max_count]
    videos = []
    for post in page:
        share = request.build_absolute_uri(
            reverse("emulator:tiktok:post", args=[token.account.username, post.post_id])
        )
        values: dict[str, Any] = {
            "id": post.post_id,
            "create_time": int(post.published_at.timestamp()),
            "cover_image_url": request.build_absolute_uri(
                reverse("emulator:tiktok:avatar", args=[token.account.open_id])
            ),
            "share_url": share,
            "video_description": post.caption,
            "title": post.caption,
            "duration": round(post.duration_ms / 1000),
            "height": 0,
            "width": 0,
            "embed_html": "",
            "embed_link": share,
            "like_count": 0,
            "comment_count": 0,
            "share_count": 0,
            "view_count": 0,
        }
        videos.append({f: values[f] for f in fields})
    next_cursor = int(page[-1].published_at.timestamp() * 1000) if page else 0
    return ok({"videos": videos, "cursor": next_cursor, "has_more": has_more})


@require_GET
def avatar(request: HttpRequest, open_id: str) -> HttpResponse:
    """A placeholder avatar (SVG) for URLs the sandbox hands out."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        '<rect width="100" height="100" fill="#25f4ee"/><circle cx="50" cy="40" r="20" '
        'fill="#fe2c55"/></svg>'
    )
    return HttpResponse(svg, content_type="image/svg+xml")


@require_GET
def profile(request: HttpRequest, username: str) -> HttpResponse:
    account = get_object_or_404(SandboxAccount, platform=Platform.TIKTOK, username=username)
    posts = LedgerEntry.objects.filter(account=account)
    return render(request, "emulator/post.html", {"account": account, "posts": posts})


@require_GET
def post(request: HttpRequest, username: str, post_id: str) -> HttpResponse:
    entry = LedgerEntry.objects.filter(
        platform=Platform.TIKTOK, account__username=username, post_id=post_id
    ).first()
    if entry is None:
        raise Http404("no such post")
    return render(request, "emulator/post.html", {"account": entry.account, "posts": [entry]})
