"""graph.instagram.com: /me, Reels containers, media_publish, media, publishing limit,
permissions (PLATFORMS §2.6-2.7, §2.12). Version segment optional (see instagram/urls.py)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.emulator import clock, media, tokens
from apps.emulator.common import json_response, random_digits, random_token
from apps.emulator.faults import fault_point, graph_error
from apps.emulator.fetch import fetch_video, sha256_of
from apps.emulator.instagram.auth import authenticate, params, resolve_user, unsupported
from apps.emulator.models import InstagramContainer, LedgerEntry, Platform, SandboxAccount
from apps.emulator.state import get_config

PUBLISH = "instagram_business_content_publish"
DAY = dt.timedelta(hours=24)
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_MENTION = re.compile(r"(?<!\w)@[\w.]+")


def _fields(request: HttpRequest) -> list[str]:
    return [f.strip() for f in request.GET.get("fields", "").split(",") if f.strip()]


def _account_problem(account: SandboxAccount) -> HttpResponse | None:
    """Posting refusals that are about the account, not the token (§2.9, §4.11, §4.18)."""
    if not account.is_professional:
        return graph_error(400, 10, None, "Application does not have permission for this action")
    if account.banned_from_posting:
        return graph_error(
            400, 25, 2207050, "The Instagram account is restricted, inactive or checkpointed."
        )
    return None


@require_GET
@fault_point("instagram.me")
def me(request: HttpRequest) -> HttpResponse:
    """GET /me?fields=… — `id` is app-scoped, `user_id` the professional account id."""
    token, error = authenticate(request)
    if error:
        return error
    assert token is not None
    account = token.account
    values: dict[str, Any] = {
        "id": account.app_scoped_id,
        "user_id": account.ig_user_id,
        "username": account.username,
        "name": account.display_name,
        "account_type": account.account_type,
        "profile_picture_url": request.build_absolute_uri(
            reverse("emulator:instagram:avatar", args=[account.app_scoped_id])
        ),
        "followers_count": account.followers_count,
        "follows_count": account.follows_count,
        "media_count": LedgerEntry.objects.filter(account=account).count(),
    }
    fields = _fields(request) or ["id"]
    unknown = [f for f in fields if f not in values]
    if unknown:
        return graph_error(
            400, 100, None, f"Tried accessing nonexisting field ({unknown[0]}) on node type (User)"
        )
    return json_response({f: values[f] for f in dict.fromkeys(["id", *fields])})


def _create_container(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    data = params(request)
    media_type = str(data.get("media_type", ""))
    if media_type != "REELS":
        # Only Reels are emulated; VIDEO has been unsupported since 2023-11-09 (§2.7).
        return graph_error(
            400, 100, 2207023, f"The media type {media_type or '(none)'} is unknown."
        )
    if data.get("upload_type") == "resumable":
        return graph_error(400, 100, None, "Resumable uploads are not emulated; use video_url.")
    video_url = str(data.get("video_url", ""))
    if not video_url.startswith(("http://", "https://")):
        return graph_error(400, 100, None, "The parameter video_url is required.")
    caption = str(data.get("caption", ""))
    if len(caption) > 2200:
        return graph_error(400, 36004, 2207010, "The caption is too long.")
    if len(_HASHTAG.findall(caption)) > 30:
        return graph_error(400, 100, None, "The caption has more than 30 hashtags.")
    if len(_MENTION.findall(caption)) > 20:
        return graph_error(400, 100, 2207040, "Cannot use more than 20 tags per created media.")
    thumb_offset = data.get("thumb_offset", 0)
    try:
        thumb_ms = int(thumb_offset)
    except (TypeError, ValueError):
        return graph_error(400, 100, None, "thumb_offset must be an integer.")
    # Meta fetches the URL (redirects allowed); an unfetchable URL fails the create call.
    fetched = fetch_video(video_url, follow_redirects=True, max_bytes=media.IG_MAX_BYTES)
    if fetched.problem == "timeout":
        return graph_error(400, -2, 2207003, "Timed out downloading the media.", transient=True)
    pending_message = ""
    duration_ms = 0
    if fetched.problem == "too_large":
        pending_message = "The video file is larger than 300 MB."
    elif fetched.problem:
        return graph_error(
            400, 9004, 2207052, f"The media could not be fetched from this URI: {video_url}"
        )
    else:
        assert fetched.path is not None
        probe = media.probe_file(fetched.path)
        pending_message = media.check_instagram(probe)
        duration_ms = int(probe.duration_s * 1000)
        if not pending_message and not 0 <= thumb_ms <= duration_ms:
            return graph_error(400, 1, 2207057, "The thumb_offset is out of range.")
    container = InstagramContainer.objects.create(
        container_id="1790" + random_digits(13),
        account=account,
        media_type=media_type,
        video_url=video_url,
        params={k: v for k, v in data.items() if k != "access_token"},
        caption=caption,
        file_path=str(fetched.path or ""),
        duration_ms=duration_ms,
        pending_error_subcode=media.IG_UNSUPPORTED_FORMAT if pending_message else None,
        pending_error_message=pending_message,
        created_at=clock.now(),
    )
    return json_response({"id": container.container_id})


@csrf_exempt
@require_http_methods(["GET", "POST"])
@fault_point("instagram.media_create")
def user_media(request: HttpRequest, node: str) -> HttpResponse:
    """POST /{ig-user-id}/media — create a REELS container; GET lists published media."""
    token, error = authenticate(request, PUBLISH if request.method == "POST" else None)
    if error:
        return error
    assert token is not None
    account = resolve_user(node, token)
    if account is None:
        return unsupported(request.method or "GET", node)
    if request.method == "GET":
        posts = LedgerEntry.objects.filter(platform=Platform.INSTAGRAM, account=account)
        return json_response({"data": [{"id": p.post_id} for p in posts]})
    return _account_problem(account) or _create_container(request, account)


def container_status(container: InstagramContainer) -> str:
    """IN_PROGRESS → FINISHED | ERROR; EXPIRED after 24 h unpublished; PUBLISHED (§2.7)."""
    if container.published:
        return "PUBLISHED"
    elapsed = clock.now() - container.created_at
    if elapsed < dt.timedelta(seconds=get_config().instagram_processing_seconds):
        return "IN_PROGRESS"
    if container.pending_error_subcode:
        return "ERROR"
    if elapsed >= DAY:
        return "EXPIRED"
    return "FINISHED"


STATUS_TEXT = {
    "IN_PROGRESS": "In Progress: Media is still being processed.",
    "FINISHED": "Finished: Media has been uploaded and it is complete.",
    "PUBLISHED": "Published: Media has been published.",
    "EXPIRED": "Expired: The media container was not published within 24 hours.",
}


def _permalink(request: HttpRequest, post: LedgerEntry) -> str:
    return request.build_absolute_uri(reverse("emulator:instagram:reel", args=[post.shortcode]))


@require_GET
@fault_point("instagram.container")
def node(request: HttpRequest, node_id: str) -> HttpResponse:
    """GET /{container-id}?fields=status_code,status or /{media-id}?fields=permalink,…"""
    token, error = authenticate(request, None)
    if error:
        return error
    assert token is not None
    fields = _fields(request) or ["id"]
    container = InstagramContainer.objects.filter(
        container_id=node_id, account=token.account
    ).first()
    values: dict[str, Any]
    if container is not None:
        status_code = container_status(container)
        text = STATUS_TEXT.get(status_code, "")
        if status_code == "ERROR":
            text = (
                f"Error: Media upload has failed with error code {container.pending_error_subcode}"
                f" ({container.pending_error_message})"
            )
        values = {"id": container.container_id, "status_code": status_code, "status": text}
    else:
        post = LedgerEntry.objects.filter(
            platform=Platform.INSTAGRAM, post_id=node_id, account=token.account
        ).first()
        if post is None:
            return unsupported("GET", node_id)
        values = {
            "id": post.post_id,
            "permalink": _permalink(request, post),
            "media_type": "VIDEO",
            "media_product_type": "REELS",
            "caption": post.caption,
            "shortcode": post.shortcode,
            "timestamp": post.published_at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "username": post.account.username,
            "like_count": 0,
            "comments_count": 0,
        }
    unknown = [f for f in fields if f not in values]
    if unknown:
        return graph_error(400, 100, None, f"Tried accessing nonexisting field ({unknown[0]})")
    return json_response({f: values[f] for f in dict.fromkeys([*fields, "id"])})


def quota_usage(account: SandboxAccount) -> int:
    """Posts in the rolling 24 h; an exhausted quota reads as full (§2.7 step 5)."""
    mark = account.quota_exhausted_at
    if mark is not None and mark > clock.now() - DAY:
        return account.daily_post_cap
    return LedgerEntry.objects.filter(
        platform=Platform.INSTAGRAM, account=account, published_at__gt=clock.now() - DAY
    ).count()


@csrf_exempt
@require_POST
@fault_point("instagram.media_publish")
def media_publish(request: HttpRequest, node: str) -> HttpResponse:
    """POST /{ig-user-id}/media_publish?creation_id=… → {"id": media id} (§2.7 step 4)."""
    token, error = authenticate(request, PUBLISH)
    if error:
        return error
    assert token is not None
    account = resolve_user(node, token)
    if account is None:
        return unsupported("POST", node)
    problem = _account_problem(account)
    if problem:
        return problem
    creation_id = str(params(request).get("creation_id", ""))
    with transaction.atomic():
        container = (
            InstagramContainer.objects.select_for_update().filter(container_id=creation_id).first()
        )
        if container is None:
            return graph_error(400, 24, 2207008, "The media container does not exist.",
                               transient=True)  # fmt: skip
        if container.account_id != account.pk:
            return graph_error(400, 24, 2207006, "The media was not found.")
        status = container_status(container)
        if status == "PUBLISHED":
            # Undocumented; a plain error so a retried publish never makes a second post.
            return graph_error(400, 100, None, "The media container was already published.")
        if status == "IN_PROGRESS":
            return graph_error(400, 9007, 2207027, "The media is not ready for publishing.")
        if status == "ERROR":
            return graph_error(400, 352, 2207026, container.pending_error_message)
        if status == "EXPIRED":
            return graph_error(400, -2, 2207020, "The media has expired; create a new one.")
        if quota_usage(account) >= account.daily_post_cap:
            return graph_error(
                400, 9, 2207042, "The account has reached its daily publishing limit."
            )
        path = Path(container.file_path) if container.file_path else None
        try:
            post = LedgerEntry.objects.create(
                platform=Platform.INSTAGRAM,
                account=account,
                source_ref=container.container_id,
                post_id="1800" + random_digits(13),
                shortcode=random_token("", 8)[:11],
                caption=container.caption,
                video_sha256=sha256_of(path) if path and path.exists() else "",
                video_bytes=path.stat().st_size if path and path.exists() else 0,
                duration_ms=container.duration_ms,
                published_at=clock.now(),
            )
        except IntegrityError:  # pragma: no cover - guarded by the select_for_update above
            return graph_error(400, 100, None, "The media container was already published.")
        container.published = True
        container.save(update_fields=["published"])
    return json_response({"id": post.post_id})


@require_GET
@fault_point("instagram.publishing_limit")
def publishing_limit(request: HttpRequest, node: str) -> HttpResponse:
    """GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config (§2.7 step 5)."""
    token, error = authenticate(request)
    if error:
        return error
    assert token is not None
    account = resolve_user(node, token)
    if account is None:
        return unsupported("GET", node)
    entry: dict[str, Any] = {"quota_usage": quota_usage(account)}
    if "config" in _fields(request):
        entry["config"] = {"quota_total": account.daily_post_cap, "quota_duration": 86400}
    return json_response({"data": [entry]})


@csrf_exempt
@require_http_methods(["DELETE"])
@fault_point("instagram.permissions_delete")
def permissions(request: HttpRequest, node: str) -> HttpResponse:
    """DELETE /me/permissions — the app disconnects itself; every token of the user dies
    (§2.12, unverified for Instagram Login; the sandbox supports it). No deauthorize callback:
    the app asked for it."""
    token, error = authenticate(request, None)
    if error:
        return error
    assert token is not None
    account = resolve_user(node, token)
    if account is None:
        return unsupported("DELETE", node)
    tokens.revoke_all(account, "app_removed")
    return json_response({"success": True})


@require_GET
def reel(request: HttpRequest, shortcode: str) -> HttpResponse:
    """The permalink page of a published Reel."""
    post = get_object_or_404(LedgerEntry, platform=Platform.INSTAGRAM, shortcode=shortcode)
    return render(request, "emulator/post.html", {"account": post.account, "posts": [post]})
