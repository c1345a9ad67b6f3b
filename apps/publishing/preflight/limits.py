"""Each platform's limits as preflight reads them, gathered from the rules modules.

No number is written here: every value comes from apps/platforms/<platform>/rules.py, where its
PLATFORMS.md source is cited. A limit a platform does not state is None/False and its rule is not
checked for that platform (TikTok states no pixel format, audio or caption-tag limits, §1.6).
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.platforms.instagram import rules as instagram
from apps.platforms.tiktok import rules as tiktok
from apps.platforms.types import CaptionLimits, Platform, VideoLimits


@dataclass(frozen=True)
class PlatformLimits:
    platform: str  # a Platform value
    name: str  # how people call it: "TikTok"
    video: VideoLimits
    caption: CaptionLimits
    pixel_formats: frozenset[str] | None = None
    progressive_only: bool = False
    requires_faststart: bool = False
    rejects_edit_lists: bool = False
    recommended_aspect: tuple[int, int] | None = None
    # Longer than this gets a warning (Instagram's disputed 90 s Reels cap, §3).
    long_video_warning_s: float | None = None


TIKTOK = PlatformLimits(
    platform=Platform.TIKTOK.value,
    name=Platform.TIKTOK.label,
    video=tiktok.VIDEO,
    caption=tiktok.CAPTION,
)

INSTAGRAM = PlatformLimits(
    platform=Platform.INSTAGRAM.value,
    name=Platform.INSTAGRAM.label,
    video=instagram.VIDEO,
    caption=instagram.CAPTION,
    pixel_formats=instagram.PIXEL_FORMATS,
    progressive_only=instagram.PROGRESSIVE_ONLY,
    requires_faststart=instagram.REQUIRES_FASTSTART,
    rejects_edit_lists=instagram.REJECTS_EDIT_LISTS,
    recommended_aspect=instagram.RECOMMENDED_ASPECT,
    long_video_warning_s=instagram.REELS_TAB_WARN_DURATION_S,
)
