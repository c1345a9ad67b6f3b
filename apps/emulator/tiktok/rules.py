"""TikTok posting rules the sandbox enforces: caps, privacy options, chunk arithmetic."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings

from apps.emulator import clock
from apps.emulator.common import is_local_host
from apps.emulator.models import SandboxAccount, TikTokPublish
from apps.emulator.state import get_config

PUBLIC_OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
PRIVATE_OPTIONS = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
ALL_PRIVACY = set(PUBLIC_OPTIONS) | set(PRIVATE_OPTIONS)
# §1.6(d): decimal MB per the official example.
MIN_CHUNK = 5_000_000
MAX_CHUNK = 64_000_000
MAX_LAST_CHUNK = 128_000_000
MAX_CHUNKS = 1000
MAX_VIDEO_BYTES = 4 * 1024**3
UNAUDITED_CREATOR_CAP = 5  # §1.6(h)
PENDING_SHARE_CAP = 5  # §1.6(c)
DAY = dt.timedelta(hours=24)


def privacy_options(account: SandboxAccount) -> list[str]:
    return PRIVATE_OPTIONS if account.is_private else PUBLIC_OPTIONS


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def posts_last_24h(account: SandboxAccount) -> int:
    """Direct Posts started in the rolling 24 h (failed ones don't count)."""
    return (
        TikTokPublish.objects.filter(
            account=account, flow="direct", created_at__gt=clock.now() - DAY
        )
        .exclude(status="FAILED")
        .count()
    )


def quota_exhausted(account: SandboxAccount) -> bool:
    mark = account.quota_exhausted_at
    return mark is not None and mark > clock.now() - DAY


def posting_block(account: SandboxAccount) -> str:
    """The error code that stops this creator posting now, or "" (§1.6(a)/(b)/(h))."""
    if account.banned_from_posting:
        return "spam_risk_user_banned_from_posting"
    if quota_exhausted(account) or posts_last_24h(account) >= account.daily_post_cap:
        return "spam_risk_too_many_posts"
    config = get_config()
    cap = (
        config.tiktok_active_user_cap
        if config.tiktok_client_audited
        else min(UNAUDITED_CREATOR_CAP, config.tiktok_active_user_cap)
    )
    active = set(
        TikTokPublish.objects.filter(created_at__gt=clock.now() - DAY)
        .values_list("account_id", flat=True)
        .distinct()
    )
    if account.pk not in active and len(active) >= cap:
        return "reached_active_user_cap"
    return ""


def chunk_problem(video_size: object, chunk_size: object, total_chunk_count: object) -> str:
    """Why the FILE_UPLOAD source_info is invalid (§1.6(d)), or ""."""
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in
               (video_size, chunk_size, total_chunk_count)):  # fmt: skip
        return "video_size, chunk_size and total_chunk_count must be integers"
    assert isinstance(video_size, int)
    assert isinstance(chunk_size, int)
    assert isinstance(total_chunk_count, int)
    if not 0 < video_size <= MAX_VIDEO_BYTES:
        return "video_size out of range"
    if video_size < MIN_CHUNK:
        if chunk_size != video_size or total_chunk_count != 1:
            return "a video under 5 MB must be one chunk with chunk_size = video_size"
        return ""
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        return "chunk_size must be between 5 MB and 64 MB"
    expected = video_size // chunk_size
    if total_chunk_count != expected:
        return f"total_chunk_count must be floor(video_size / chunk_size) = {expected}"
    if not 1 <= total_chunk_count <= MAX_CHUNKS:
        return "total_chunk_count must be between 1 and 1000"
    if video_size > MAX_CHUNK and total_chunk_count < 2:
        # §1.6(d): ">64 MB ⇒ must be chunked", even though floor() allowed a single chunk here.
        return "a video over 64 MB must be uploaded in more than one chunk"
    if video_size - (total_chunk_count - 1) * chunk_size > MAX_LAST_CHUNK:
        return "the last chunk may not exceed 128 MB"
    return ""


def expected_chunk_length(publish: TikTokPublish, first_byte: int) -> int:
    index = first_byte // publish.chunk_size
    if index >= publish.total_chunk_count - 1:
        return publish.video_size - first_byte
    return publish.chunk_size


def pull_url_problem(url: str) -> tuple[int, str, str] | None:
    """(status, code, message) when a PULL_FROM_URL `video_url` is refused at init (§1.6(e))."""
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.netloc:
        return 400, "invalid_param", "video_url must be an https URL"
    if parts.scheme == "http" and not is_local_host(parts.hostname):
        return 400, "invalid_param", "video_url must be an https URL"
    prefixes = get_config().tiktok_verified_url_prefixes or [settings.PUBLIC_BASE_URL + "/"]
    if not (any(url.startswith(p) for p in prefixes) or (
        not get_config().tiktok_verified_url_prefixes and is_local_host(parts.hostname)
    )):  # fmt: skip
        return 403, "url_ownership_unverified", "The domain or URL prefix is not verified."
    return None
