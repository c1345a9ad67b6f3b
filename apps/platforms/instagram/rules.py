"""Instagram Reels media, caption and publishing limits as data (PLATFORMS §2.7, §2.8, §3)."""

from __future__ import annotations

from apps.platforms.types import CaptionLimits, VideoLimits

# §2.8 (IG User Media reference, mirror 2026-09-11): MOV/MP4 with the moov atom first and no
# edit lists; HEVC or H.264, progressive, closed GOP, 4:2:0; AAC ≤48 kHz, 1-2 channels;
# 23-60 fps; width ≤1920 px; aspect 0.01:1-10:1; VBR ≤25 Mbps; 3 s-15 min; ≤300 MB.
# §3 disagreements: an old 90 s cap (accept 15 min; preflight may warn above 90 s) and an old
# 1 GB size (use 300 MB).
VIDEO = VideoLimits(
    containers=frozenset({"mp4", "mov"}),
    video_codecs=frozenset({"h264", "hevc"}),
    audio_codecs=frozenset({"aac"}),
    min_fps=23,
    max_fps=60,
    min_width=None,
    max_width=1920,
    min_height=None,
    max_height=None,
    min_duration_s=3,
    max_duration_s=15 * 60,
    max_bytes=300_000_000,
    max_bitrate_bps=25_000_000,
    min_aspect=0.01,
    max_aspect=10.0,
    max_audio_sample_rate_hz=48_000,
    max_audio_channels=2,
)
REQUIRES_FASTSTART = True  # moov atom at the front (§2.8)
REJECTS_EDIT_LISTS = True
RECOMMENDED_ASPECT = (9, 16)
REELS_TAB_WARN_DURATION_S = 90  # §3: legacy/third-party cap, a warning only
# §2.8 "progressive": interlaced video is refused.
PROGRESSIVE_ONLY = True
# §2.8 "4:2:0", as FFmpeg names the pixel formats with that chroma subsampling. [judgment] The
# spec names the subsampling, not the bit depth, so 10-bit 4:2:0 (HEVC Main 10, what phones
# record HDR in) is accepted; 4:2:2 and 4:4:4 are not.
PIXEL_FORMATS = frozenset(
    {"yuv420p", "yuvj420p", "yuv420p10le", "yuv420p10be", "nv12", "nv21", "p010le"}
)
# §2.8 also says "closed GOP" (not checked: it needs a full parse of the video) and "128 kbps"
# for AAC — [judgment] read as the recommended audio bitrate, not a limit, so not checked.

# §2.7 step 1: caption ≤2200 characters, ≤30 hashtags, ≤20 @mentions.
CAPTION = CaptionLimits(max_length=2200, length_unit="chars", max_hashtags=30, max_mentions=20)

# §2.7 / §2.8: cover image.
COVER_MAX_BYTES = 8_000_000
COVER_CONTENT_TYPES = frozenset({"image/jpeg"})
MAX_COLLABORATORS = 3

# §2.7 step 5: 100 published posts per rolling 24 h per the guide (50 / 25 elsewhere), so the
# live `content_publishing_limit` answer wins; this is only the fallback for display.
DEFAULT_PUBLISH_QUOTA = 100
QUOTA_WINDOW_S = 86_400
MAX_CONTAINERS_PER_DAY = 400
CONTAINER_TTL_S = 86_400  # unpublished containers EXPIRE after 24 h: create at publish time

# §2.7 step 3: Meta suggests polling container status once a minute for at most five minutes.
CONTAINER_POLL_INTERVAL_S = 60
CONTAINER_POLL_MAX_S = 300

# §2.4, §2.5, §4.1: long-lived tokens last ≈60 d; refresh only once ≥24 h old; refresh by ~day 50.
LONG_LIVED_TOKEN_TTL_S = 60 * 86_400
REFRESH_MIN_AGE_S = 24 * 3600
REFRESH_BY_AGE_S = 50 * 86_400

# §2.6, §4.18: only professional accounts can publish.
PROFESSIONAL_ACCOUNT_TYPES = frozenset({"BUSINESS", "MEDIA_CREATOR"})
# PLATFORMS §2.1, §4.18: only professional accounts can publish; how the owner switches.
SWITCH_TO_PROFESSIONAL = (
    "in the Instagram app open Settings → Account type and tools → Switch to professional "
    "account (Business or Creator)"
)

# The consent page turns a personal account away by redirecting to the app's callback with
# error=access_denied and this error_reason. [judgment] Meta documents only "user_denied" (§2.2);
# the sandbox sends this so we can show how to switch to a professional account.
NOT_PROFESSIONAL_ERROR_REASON = "not_professional_account"
