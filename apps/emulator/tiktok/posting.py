"""TikTok Content Posting API: creator info, init (direct + inbox), status, cancel (§1.6).

Processing is evaluated lazily: a task's result is decided when its bytes arrive and revealed
once `tiktok_processing_seconds` of sandbox time have passed (`settle()`), so status "moves over
time" with the sandbox clock and needs no background thread. Moderation works the same way: a
public Direct Post becomes publicly available `tiktok_moderation_seconds` after it was
published, and the first read after that sends `post.publish.publicly_available` (§1.9).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.emulator import clock, media
from apps.emulator.common import json_body, random_digits, random_token
from apps.emulator.faults import fault_point, tiktok_api_error
from apps.emulator.fetch import fetch_video, sha256_of
from apps.emulator.models import LedgerEntry, Platform, TikTokPublish
from apps.emulator.state import get_config
from apps.emulator.tiktok import rules
from apps.emulator.tiktok.auth import authenticate, ok
from apps.emulator.webhooks import send_tiktok_event

UPLOAD_URL_TTL = dt.timedelta(hours=1)  # §1.6(b): upload_url valid 1 h
# §1.9: `publish_type` of the posting events, by flow.
PUBLISH_TYPES = {"direct": "DIRECT_PUBLISH", "inbox": "INBOX_SHARE"}
PUBLIC_PRIVACY = "PUBLIC_TO_EVERYONE"


def publish_type(publish: TikTokPublish) -> str:
    return PUBLISH_TYPES.get(publish.flow, PUBLISH_TYPES["inbox"])


def _avatar(request: HttpRequest, open_id: str) -> str:
    return request.build_absolute_uri(reverse("emulator:tiktok:avatar", args=[open_id]))


@csrf_exempt
@require_POST
@fault_point("tiktok.creator_info")
def creator_info(request: HttpRequest) -> HttpResponse:
    """POST /v2/post/publish/creator_info/query/ — spam/cap errors come with HTTP 200 (§1.6(a))."""
    token, error = authenticate(request, {"video.publish"})
    if error:
        return error
    assert token is not None
    account = token.account
    block = rules.posting_block(account)
    if block:
        return tiktok_api_error(200, block, "The creator cannot post right now.")
    return ok(
        {
            "creator_avatar_url": _avatar(request, account.open_id),
            "creator_username": account.username,
            "creator_nickname": account.display_name,
            "privacy_level_options": rules.privacy_options(account),
            "comment_disabled": account.comment_disabled,
            "duet_disabled": account.duet_disabled,
            "stitch_disabled": account.stitch_disabled,
            "max_video_post_duration_sec": account.max_video_post_duration_sec,
        }
    )


def _check_media(publish: TikTokPublish, path: Path) -> str:
    """The fail_reason for the received video, or "" (§1.6(g))."""
    probe = media.probe_file(path)
    limit = (
        publish.account.max_video_post_duration_sec
        if publish.flow == "direct"
        else media.TIKTOK_API_MAX_DURATION
    )
    return media.check_tiktok(probe, max_duration_sec=limit)


def start_processing(publish: TikTokPublish, path: Path | None, fail_reason: str = "") -> None:
    """Bytes are all here (or the pull failed): decide the outcome now, reveal it later."""
    publish.file_path = str(path) if path else ""
    publish.pending_fail_reason = fail_reason or (_check_media(publish, path) if path else "")
    publish.phase = TikTokPublish.Phase.PROCESSING
    publish.processing_started_at = clock.now()
    publish.save()


def _init(request: HttpRequest, flow: str) -> HttpResponse:
    token, error = authenticate(request, {"video.publish" if flow == "direct" else "video.upload"})
    if error:
        return error
    assert token is not None
    account = token.account
    body = json_body(request)
    if body is None:
        return tiktok_api_error(400, "invalid_param", "The request body must be a JSON object.")
    post_info: dict[str, Any] = {}
    if flow == "direct":
        raw_post_info = body.get("post_info")
        post_info = raw_post_info if isinstance(raw_post_info, dict) else {}
        privacy = post_info.get("privacy_level")
        if privacy not in rules.ALL_PRIVACY:
            return tiktok_api_error(400, "invalid_param", "post_info.privacy_level is invalid.")
        title = post_info.get("title", "")
        if not isinstance(title, str) or rules.utf16_length(title) > 2200:
            return tiktok_api_error(400, "invalid_param", "title exceeds 2200 UTF-16 units.")
        block = rules.posting_block(account)
        if block:
            return tiktok_api_error(403, block, "The creator cannot post right now.")
        if not get_config().tiktok_client_audited and (
            privacy != "SELF_ONLY" or not account.is_private
        ):
            return tiktok_api_error(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post SELF_ONLY to private accounts.",
            )
        if privacy not in rules.privacy_options(account):
            return tiktok_api_error(
                403, "privacy_level_option_mismatch", "privacy_level is not among the options."
            )
    else:
        if account.banned_from_posting:
            return tiktok_api_error(
                403, "spam_risk_user_banned_from_posting", "The user is banned from posting."
            )
        pending = TikTokPublish.objects.filter(
            account=account, flow="inbox", created_at__gt=clock.now() - rules.DAY
        ).exclude(status__in=["FAILED", "PUBLISH_COMPLETE"])
        if pending.count() >= rules.PENDING_SHARE_CAP:
            return tiktok_api_error(
                403, "spam_risk_too_many_pending_share", "Too many pending shares."
            )
    raw_source_info = body.get("source_info")
    source_info: dict[str, Any] = raw_source_info if isinstance(raw_source_info, dict) else {}
    source = source_info.get("source")
    kind = "file" if source == "FILE_UPLOAD" else "url"
    publish = TikTokPublish(
        publish_id=f"v_{'pub' if flow == 'direct' else 'inbox'}_{kind}~v2-1.{random_digits(19)}",
        account=account,
        flow=flow,
        source=str(source),
        post_info=post_info,
        created_at=clock.now(),
    )
    if source == "FILE_UPLOAD":
        problem = rules.chunk_problem(
            source_info.get("video_size"),
            source_info.get("chunk_size"),
            source_info.get("total_chunk_count"),
        )
        if problem:
            return tiktok_api_error(400, "invalid_param", problem)
        publish.video_size = source_info["video_size"]
        publish.chunk_size = source_info["chunk_size"]
        publish.total_chunk_count = source_info["total_chunk_count"]
        publish.upload_token = random_token("", 18)
        publish.upload_expires_at = clock.now() + UPLOAD_URL_TTL
        publish.save()
        upload_url = request.build_absolute_uri(reverse("emulator:tiktok_upload:video"))
        upload_url += f"?upload_id={publish.pk}&upload_token={publish.upload_token}"
        return ok({"publish_id": publish.publish_id, "upload_url": upload_url})
    if source == "PULL_FROM_URL":
        url = source_info.get("video_url")
        if not isinstance(url, str) or not url:
            return tiktok_api_error(400, "invalid_param", "video_url is required.")
        refused = rules.pull_url_problem(url)
        if refused:
            return tiktok_api_error(*refused)
        publish.video_url = url
        publish.save()
        # §1.6(e): no redirects (3xx is invalid); failures surface as `video_pull_failed`.
        fetched = fetch_video(url, follow_redirects=False, max_bytes=rules.MAX_VIDEO_BYTES)
        if fetched.problem:
            start_processing(publish, None, "video_pull_failed")
        else:
            publish.video_size = publish.uploaded_bytes = fetched.size
            start_processing(publish, fetched.path)
        return ok({"publish_id": publish.publish_id})
    return tiktok_api_error(400, "invalid_param", "source must be FILE_UPLOAD or PULL_FROM_URL.")


@csrf_exempt
@require_POST
@fault_point("tiktok.video_init")
def video_init(request: HttpRequest) -> HttpResponse:
    """POST /v2/post/publish/video/init/ — Direct Post (§1.6(b))."""
    return _init(request, "direct")


@csrf_exempt
@require_POST
@fault_point("tiktok.inbox_init")
def inbox_init(request: HttpRequest) -> HttpResponse:
    """POST /v2/post/publish/inbox/video/init/ — upload to the user's inbox (§1.6(c))."""
    return _init(request, "inbox")


def settle(publish: TikTokPublish) -> TikTokPublish:
    """Reveal a processed task's outcome once its processing time has elapsed (idempotent).

    Direct posts that pass become a ledger entry (exactly once: unique source_ref) and fire
    `post.publish.complete`; failures fire `post.publish.failed`. Once moderation has passed, a
    public post fires `post.publish.publicly_available` with its `post_id`, once (§1.9).
    """
    settled = _settle_processing(publish)
    _announce_if_public(settled)
    return settled


def _settle_processing(publish: TikTokPublish) -> TikTokPublish:
    if publish.phase != TikTokPublish.Phase.PROCESSING or publish.processing_started_at is None:
        return publish
    delay = dt.timedelta(seconds=get_config().tiktok_processing_seconds)
    if clock.now() < publish.processing_started_at + delay:
        return publish
    event: tuple[str, dict[str, Any]] | None = None
    with transaction.atomic():
        fresh = TikTokPublish.objects.select_for_update().get(pk=publish.pk)
        if fresh.phase != TikTokPublish.Phase.PROCESSING:
            return fresh
        base = {"publish_id": fresh.publish_id, "publish_type": publish_type(fresh)}
        if fresh.pending_fail_reason:
            fresh.status, fresh.fail_reason = "FAILED", fresh.pending_fail_reason
            event = ("post.publish.failed", {**base, "reason": fresh.fail_reason})
        elif fresh.flow == "direct":
            fresh.status = "PUBLISH_COMPLETE"
            # Published when processing ended, not when someone happened to read it, so
            # moderation runs from then too.
            _record_post(fresh, published_at=publish.processing_started_at + delay)
            event = ("post.publish.complete", base)
        else:
            fresh.status = "SEND_TO_USER_INBOX"
            event = ("post.publish.inbox_delivered", base)
        fresh.phase = TikTokPublish.Phase.SETTLED
        fresh.save()
    send_tiktok_event(fresh.account, *event)
    return fresh


def public_post(publish: TikTokPublish) -> LedgerEntry | None:
    """The published post once it is publicly available: a PUBLIC_TO_EVERYONE Direct Post whose
    moderation time has passed (§1.6(f), §1.9). SELF_ONLY and other audiences never are."""
    if publish.flow != "direct" or publish.status != "PUBLISH_COMPLETE":
        return None
    post = LedgerEntry.objects.filter(
        platform=Platform.TIKTOK, source_ref=publish.publish_id
    ).first()
    if post is None or post.privacy_level != PUBLIC_PRIVACY:
        return None
    moderation = dt.timedelta(seconds=get_config().tiktok_moderation_seconds)
    return post if clock.now() >= post.published_at + moderation else None


def _announce_if_public(publish: TikTokPublish) -> None:
    """Send `post.publish.publicly_available` the first time a read finds the post public."""
    if publish.phase != TikTokPublish.Phase.SETTLED or publish.publicly_available_sent_at:
        return
    post = public_post(publish)
    if post is None:
        return
    # The conditional update lets exactly one of several concurrent readers send it.
    claimed = TikTokPublish.objects.filter(
        pk=publish.pk, publicly_available_sent_at__isnull=True
    ).update(publicly_available_sent_at=clock.now())
    if not claimed:
        return
    send_tiktok_event(
        publish.account,
        "post.publish.publicly_available",
        {
            "publish_id": publish.publish_id,
            "publish_type": publish_type(publish),
            "post_id": post.post_id,
        },
    )


def _record_post(publish: TikTokPublish, *, published_at: dt.datetime) -> None:
    path = Path(publish.file_path) if publish.file_path else None
    probe = media.probe_file(path) if path and path.exists() else None
    try:
        with transaction.atomic():
            LedgerEntry.objects.create(
                platform=Platform.TIKTOK,
                account=publish.account,
                source_ref=publish.publish_id,
                post_id="7" + random_digits(18),
                caption=publish.post_info.get("title", ""),
                privacy_level=publish.post_info.get("privacy_level", ""),
                video_sha256=sha256_of(path) if path and path.exists() else "",
                video_bytes=publish.video_size,
                duration_ms=int(probe.duration_s * 1000) if probe else 0,
                published_at=published_at,
            )
    except IntegrityError:
        pass  # already recorded: the ledger holds one row per publish_id


def status_payload(publish: TikTokPublish) -> dict[str, Any]:
    """The `data` object of status/fetch for this task at the current sandbox time."""
    bytes_key = "uploaded_bytes" if publish.source == "FILE_UPLOAD" else "downloaded_bytes"
    data: dict[str, Any] = {"publicaly_available_post_id": [], bytes_key: publish.uploaded_bytes}
    if publish.phase in {TikTokPublish.Phase.UPLOADING, TikTokPublish.Phase.PROCESSING}:
        data["status"] = (
            "PROCESSING_UPLOAD" if publish.source == "FILE_UPLOAD" else "PROCESSING_DOWNLOAD"
        )
        return data
    data["status"] = publish.status
    if publish.status == "FAILED":
        data["fail_reason"] = publish.fail_reason
    # §1.6(f): only public posts get an id, after moderation; SELF_ONLY never does.
    post = public_post(publish)
    if post is not None:
        data["publicaly_available_post_id"] = [int(post.post_id)]
    return data


def _own_publish(request: HttpRequest) -> tuple[TikTokPublish | None, HttpResponse | None]:
    token, error = authenticate(request, {"video.publish", "video.upload"})
    if error:
        return None, error
    assert token is not None
    body = json_body(request) or {}
    publish = (
        TikTokPublish.objects.select_related("account")
        .filter(publish_id=str(body.get("publish_id", "")))
        .first()
    )
    if publish is None:
        return None, tiktok_api_error(400, "invalid_publish_id", "publish_id is not valid.")
    if publish.account_id != token.account_id:
        return None, tiktok_api_error(
            400,
            "token_not_authorized_for_specified_publish_id",
            "The token may not access this publish_id.",
        )
    return publish, None


@csrf_exempt
@require_POST
@fault_point("tiktok.status")
def status_fetch(request: HttpRequest) -> HttpResponse:
    """POST /v2/post/publish/status/fetch/ (§1.6(f))."""
    publish, error = _own_publish(request)
    if error:
        return error
    assert publish is not None
    return ok(status_payload(settle(publish)))


@csrf_exempt
@require_POST
@fault_point("tiktok.cancel")
def cancel(request: HttpRequest) -> HttpResponse:
    """POST /v2/post/publish/cancel/ — best effort, only before the outcome is known (§1.6(e))."""
    publish, error = _own_publish(request)
    if error:
        return error
    assert publish is not None
    publish = settle(publish)
    if publish.phase not in {TikTokPublish.Phase.UPLOADING, TikTokPublish.Phase.PROCESSING}:
        return tiktok_api_error(400, "publish_not_cancellable", "The publish cannot be cancelled.")
    publish.phase = TikTokPublish.Phase.CANCELLED
    publish.status, publish.fail_reason = "FAILED", "publish_cancelled"
    publish.save(update_fields=["phase", "status", "fail_reason"])
    send_tiktok_event(
        publish.account,
        "post.publish.failed",
        {
            "publish_id": publish.publish_id,
            "publish_type": publish_type(publish),
            "reason": "publish_cancelled",
        },
    )
    return ok({})


def settle_all() -> None:
    """Settle every task whose processing or moderation time has passed (control API / page
    reads)."""
    for publish in TikTokPublish.objects.filter(phase=TikTokPublish.Phase.PROCESSING):
        settle(publish)
    awaiting_moderation = TikTokPublish.objects.select_related("account").filter(
        phase=TikTokPublish.Phase.SETTLED,
        flow="direct",
        status="PUBLISH_COMPLETE",
        publicly_available_sent_at__isnull=True,
        post_info__privacy_level=PUBLIC_PRIVACY,
    )
    for publish in awaiting_moderation:
        _announce_if_public(publish)
