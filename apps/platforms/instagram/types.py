"""Typed values the Instagram client returns (PLATFORMS §2)."""

from __future__ import annotations

from dataclasses import dataclass

from apps.platforms.errors import PlatformError
from apps.platforms.instagram import rules
from apps.platforms.instagram.errors import container_error


@dataclass(frozen=True)
class InstagramProfile:
    """§2.6: `id` is app-scoped, `user_id` the professional-account id webhooks use."""

    id: str
    user_id: str
    username: str = ""
    name: str = ""
    account_type: str = ""
    profile_picture_url: str = ""
    followers_count: int | None = None
    follows_count: int | None = None
    media_count: int | None = None

    @property
    def is_professional(self) -> bool:
        return self.account_type in rules.PROFESSIONAL_ACCOUNT_TYPES


@dataclass(frozen=True)
class Container:
    id: str


@dataclass(frozen=True)
class ContainerStatus:
    """§2.7 step 3: IN_PROGRESS, FINISHED, ERROR, EXPIRED or PUBLISHED."""

    id: str
    status_code: str
    status: str = ""  # for ERROR, text holding a subcode such as 2207026

    @property
    def is_ready(self) -> bool:
        return self.status_code == "FINISHED"

    @property
    def error(self) -> PlatformError | None:
        if self.status_code in ("ERROR", "EXPIRED"):
            return container_error(self.status_code, self.status)
        return None


@dataclass(frozen=True)
class PublishedMedia:
    id: str


@dataclass(frozen=True)
class MediaInfo:
    id: str
    permalink: str
    media_type: str = ""
    media_product_type: str = ""


@dataclass(frozen=True)
class PublishingLimit:
    """§2.7 step 5: read `quota_total` live; the documented numbers disagree (100/50/25)."""

    quota_usage: int
    quota_total: int
    quota_duration: int

    @property
    def remaining(self) -> int:
        return max(self.quota_total - self.quota_usage, 0)
