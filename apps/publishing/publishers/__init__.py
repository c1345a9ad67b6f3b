"""One publisher per platform, looked up by `Platform` (DESIGN §2: a platform is one module)."""

from __future__ import annotations

from apps.platforms.types import Platform
from apps.publishing.publishers.base import Publisher
from apps.publishing.publishers.instagram import InstagramPublisher
from apps.publishing.publishers.tiktok import TikTokPublisher

PUBLISHERS: dict[Platform, Publisher] = {
    Platform.TIKTOK: TikTokPublisher(),
    Platform.INSTAGRAM: InstagramPublisher(),
}


def publisher_for(platform: Platform | str) -> Publisher:
    return PUBLISHERS[Platform(platform)]


__all__ = ["PUBLISHERS", "Publisher", "publisher_for"]
