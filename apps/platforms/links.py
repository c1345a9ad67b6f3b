"""A platform's public web pages, looked up by platform: the profile a person checks for a post
and whether a pasted link is one of the platform's posts. Each platform's shapes live in its own
package (`tiktok/links.py`, `instagram/links.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apps.platforms.instagram import links as instagram
from apps.platforms.tiktok import links as tiktok
from apps.platforms.types import Platform


@dataclass(frozen=True)
class PlatformLinks:
    profile_url: Callable[[str], str]
    is_post_url: Callable[[str], bool]
    # How a person recognises a post link of this platform, for a form's error message.
    post_url_example: str


LINKS: dict[str, PlatformLinks] = {
    Platform.TIKTOK: PlatformLinks(
        profile_url=tiktok.profile_url,
        is_post_url=tiktok.is_video_url,
        post_url_example="https://www.tiktok.com/@handle/video/7234567890123456789",
    ),
    Platform.INSTAGRAM: PlatformLinks(
        profile_url=instagram.profile_url,
        is_post_url=instagram.is_post_url,
        post_url_example="https://www.instagram.com/reel/C1a2b3c4d5e/",
    ),
}


def profile_url(platform: str, handle: str) -> str:
    """The account's public profile, or "" when the handle is unknown."""
    links = LINKS.get(platform)
    return links.profile_url(handle) if links and handle else ""


def is_post_url(platform: str, url: str) -> bool:
    links = LINKS.get(platform)
    return bool(links and links.is_post_url(url))


def post_url_example(platform: str) -> str:
    links = LINKS.get(platform)
    return links.post_url_example if links else ""
