"""TikTok's media, caption and upload limits as data (PLATFORMS §1.6, §3).

Preflight reads these; the upload code reads the chunk limits. Change a limit here only.
"""

from __future__ import annotations

from apps.platforms.types import CaptionLimits, VideoLimits

# §1.6(g): MP4 (recommended)/WebM/MOV; H.264/H.265/VP8/VP9; 23-60 fps; each side 360-4096 px;
# ≤4 GB; the API accepts ≤10 min (the creator's own cap comes from creator_info).
# [judgment] "4 GB" read as decimal, matching the decimal-MB reading of the chunk rules.
VIDEO = VideoLimits(
    containers=frozenset({"mp4", "mov", "webm"}),
    video_codecs=frozenset({"h264", "hevc", "vp8", "vp9"}),
    audio_codecs=None,  # not specified (§3)
    min_fps=23,
    max_fps=60,
    min_width=360,
    max_width=4096,
    min_height=360,
    max_height=4096,
    min_duration_s=None,  # no minimum stated (§3)
    max_duration_s=600,
    max_bytes=4_000_000_000,
)

# §1.6(a): creators get 3 min by default, some 5 or 10; `max_video_post_duration_sec` is the truth.
DEFAULT_CREATOR_MAX_DURATION_S = 180

# §1.6(b): `title` ≤2200 UTF-16 code units; hashtag/mention counts are not limited by TikTok.
CAPTION = CaptionLimits(max_length=2200, length_unit="utf16")

# §1.6(d): upload MIME types by container.
CONTENT_TYPES: dict[str, str] = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
}

# §1.6(d): chunks 5-64 MB, the last absorbs the remainder up to 128 MB, 1-1000 chunks, files
# under 5 MB go whole. [judgment] Decimal MB, as the official 50 000 123-byte example implies.
MIN_CHUNK_BYTES = 5_000_000
MAX_CHUNK_BYTES = 64_000_000
MAX_LAST_CHUNK_BYTES = 128_000_000
MAX_CHUNK_COUNT = 1000
# §1.6(d) "Chunking in practice" (2026-11): peers send every file up to 64,000,000 bytes as ONE
# chunk (chunk_size = video_size), and TikTok has been reported to refuse multi-chunk inits with
# `invalid_params` "The chunk size is invalid" (post-for-me#327). So only a file above this is
# split, and then into at least two chunks (">64 MB ⇒ must be chunked").
SINGLE_CHUNK_MAX_BYTES = MAX_CHUNK_BYTES
# The chunk size for files above SINGLE_CHUNK_MAX_BYTES: big enough to keep the count low (a
# 4 GB file is 400 chunks), small enough to hold one in memory.
DEFAULT_CHUNK_BYTES = 10_000_000

# §1.6(b): the upload_url is valid for 1 h; §1.6(e): PULL_FROM_URL downloads time out 1 h after
# init.
UPLOAD_URL_TTL_S = 3600
PULL_FROM_URL_TTL_S = 3600

# §1.6(a), §1.11: how each privacy level is named to people (the composer's dropdown, the
# account page).
PRIVACY_LABELS: dict[str, str] = {
    "PUBLIC_TO_EVERYONE": "Everyone",
    "MUTUAL_FOLLOW_FRIENDS": "Friends",
    "FOLLOWER_OF_CREATOR": "Followers",
    "SELF_ONLY": "Only me",
}
# §1.11 rule 3: branded content can't be private.
PRIVATE_PRIVACY_LEVEL = "SELF_ONLY"
# §1.11 rule 3: what TikTok labels a disclosed post as, by what was ticked.
PROMOTIONAL_CONTENT_LABEL = "Promotional content"  # "Your brand" only
PAID_PARTNERSHIP_LABEL = "Paid partnership"  # "Branded content" (with or without "Your brand")
# §1.11 rule 4: the pages the declaration before the post button links to (content-sharing
# guidelines).
MUSIC_USAGE_CONFIRMATION_URL = (
    "https://www.tiktok.com/legal/page/global/music-usage-confirmation/en"
)
BRANDED_CONTENT_POLICY_URL = "https://www.tiktok.com/legal/page/global/bc-policy/en"
# §1.6(a), §1.11 rule 1: creator_info answers these (with HTTP 200) when the creator can't post
# now; the composer says so and doesn't let the post go to that account.
POSTING_BLOCK_CODES = frozenset(
    {"spam_risk_too_many_posts", "spam_risk_user_banned_from_posting", "reached_active_user_cap"}
)

# §1.6(h): content-sharing guidelines.
UNAUDITED_PRIVACY_LEVELS = frozenset({"SELF_ONLY"})
UNAUDITED_MAX_USERS_PER_DAY = 5
CREATOR_DIRECT_POSTS_PER_DAY = 15  # approximate, shared across all API clients

# §1.6(b), §1.6(f), §1.7: per-token request limits (per minute).
RATE_LIMITS_PER_MIN: dict[str, int] = {
    "creator_info": 20,
    "video_init": 6,
    "inbox_init": 6,
    "status_fetch": 30,
    "user_info": 600,  # per app
    "video_list": 600,  # per app
}
