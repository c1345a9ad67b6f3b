"""Typed values the TikTok client returns or takes (PLATFORMS §1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.platforms.errors import PlatformError
from apps.platforms.tiktok.errors import error_for_code
from apps.platforms.tiktok.upload import ChunkPlan

# --- Typed results -------------------------------------------------------------------------------


# §1.6(a): the privacy level a public account is offered and a private one is not.
PUBLIC_PRIVACY_LEVEL = "PUBLIC_TO_EVERYONE"


@dataclass(frozen=True)
class TikTokUser:
    open_id: str
    union_id: str = ""
    display_name: str = ""
    avatar_url: str = ""
    username: str = ""


@dataclass(frozen=True)
class CreatorInfo:
    """§1.6(a): must be fetched (and shown) before every Direct Post."""

    username: str
    nickname: str
    avatar_url: str
    privacy_level_options: tuple[str, ...]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_video_post_duration_sec: int

    @property
    def is_private(self) -> bool:
        """Private accounts are offered no public option (§1.6(a))."""
        return PUBLIC_PRIVACY_LEVEL not in self.privacy_level_options


@dataclass(frozen=True)
class PostInfo:
    """The `post_info` of a Direct Post init (§1.6(b))."""

    title: str
    privacy_level: str
    disable_duet: bool = False
    disable_comment: bool = False
    disable_stitch: bool = False
    video_cover_timestamp_ms: int | None = None
    brand_content_toggle: bool = False  # the mirror marks it required, so always sent
    brand_organic_toggle: bool = False
    is_aigc: bool = False

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "title": self.title,
            "privacy_level": self.privacy_level,
            "disable_duet": self.disable_duet,
            "disable_comment": self.disable_comment,
            "disable_stitch": self.disable_stitch,
            "brand_content_toggle": self.brand_content_toggle,
            "brand_organic_toggle": self.brand_organic_toggle,
            "is_aigc": self.is_aigc,
        }
        if self.video_cover_timestamp_ms is not None:
            data["video_cover_timestamp_ms"] = self.video_cover_timestamp_ms
        return data


@dataclass(frozen=True)
class PublishInit:
    publish_id: str
    # FILE_UPLOAD only; valid 1 h (§1.6(b)). Carries an upload_token, so kept out of repr.
    upload_url: str | None = field(default=None, repr=False)
    plan: ChunkPlan | None = None


@dataclass(frozen=True)
class PublishStatus:
    """§1.6(f). `status` is PROCESSING_UPLOAD, PROCESSING_DOWNLOAD, SEND_TO_USER_INBOX,
    PUBLISH_COMPLETE or FAILED; post ids are strings (int64s must survive JSON round trips).
    """

    status: str
    fail_reason: str = ""
    public_post_ids: tuple[str, ...] = ()
    uploaded_bytes: int | None = None
    downloaded_bytes: int | None = None

    @property
    def is_final(self) -> bool:
        return self.status in ("PUBLISH_COMPLETE", "FAILED")

    @property
    def error(self) -> PlatformError | None:
        """The FAILED status's fail_reason mapped through the error table."""
        if self.status != "FAILED":
            return None
        return error_for_code(self.fail_reason or "internal")


@dataclass(frozen=True)
class TikTokVideo:
    id: str
    title: str = ""
    create_time: int | None = None
    share_url: str = ""
    duration: int | None = None
    cover_image_url: str = ""


@dataclass(frozen=True)
class VideoPage:
    videos: tuple[TikTokVideo, ...]
    cursor: int | None
    has_more: bool
