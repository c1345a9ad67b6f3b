"""The "valid on BOTH" preflight rule of PLATFORMS §3, as data.

A cross-post must satisfy TikTok and Instagram at once, so each limit is the stricter of the two
(tests/platforms/test_rules.py checks that it is never looser than either platform's own rules).
"""

from __future__ import annotations

from apps.platforms.instagram import rules as instagram
from apps.platforms.tiktok import rules as tiktok
from apps.platforms.types import CaptionLimits, VideoLimits

# §3 table, last column: MP4 (or MOV) + faststart, no WebM; H.264 (HEVC acceptable); AAC ≤48 kHz
# mono/stereo or no audio; 23-60 fps; 360 ≤ w ≤ 1920 and 360 ≤ h ≤ 4096; ≤25 Mbps;
# 3 s ≤ d ≤ min(600, max_video_post_duration_sec); ≤300 000 000 bytes.
CROSS_POST_VIDEO = VideoLimits(
    containers=frozenset({"mp4", "mov"}),
    video_codecs=frozenset({"h264", "hevc"}),
    audio_codecs=frozenset({"aac"}),
    min_fps=23,
    max_fps=60,
    min_width=360,
    max_width=1920,
    min_height=360,
    max_height=4096,
    min_duration_s=3,
    # Also capped per creator by TikTok's `max_video_post_duration_sec`, checked at publish time.
    max_duration_s=min(tiktok.VIDEO.max_duration_s, instagram.VIDEO.max_duration_s),
    max_bytes=min(tiktok.VIDEO.max_bytes, instagram.VIDEO.max_bytes),
    max_bitrate_bps=25_000_000,
    min_aspect=instagram.VIDEO.min_aspect,
    max_aspect=instagram.VIDEO.max_aspect,
    max_audio_sample_rate_hz=48_000,
    max_audio_channels=2,
)
CROSS_POST_PIXEL_FORMATS = frozenset({"yuv420p"})
CROSS_POST_REQUIRES_FASTSTART = True
# Anything but 9:16 (e.g. 1080x1920) gets a warning, not a refusal.
CROSS_POST_RECOMMENDED_ASPECT = (9, 16)

# Counting UTF-16 units is the stricter reading of "2200" (an emoji is 2 units, 1 character).
CROSS_POST_CAPTION = CaptionLimits(
    max_length=2200, length_unit="utf16", max_hashtags=30, max_mentions=20
)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of TikTok's title limit (§1.6(b))."""
    return len(text.encode("utf-16-le")) // 2
