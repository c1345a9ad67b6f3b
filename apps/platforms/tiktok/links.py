"""Where a TikTok account and its videos are on the web: the profile a person opens to look for
a post, and the shapes of a video's link they may paste back (the `share_url` of PLATFORMS §1.7,
or the short link the app's Share button copies)."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from django.conf import settings

VIDEO_HOSTS = frozenset({"www.tiktok.com", "tiktok.com", "m.tiktok.com"})
SHORT_HOSTS = frozenset({"vm.tiktok.com", "vt.tiktok.com"})
# /@handle/video/7234567890123456789 — handles are letters, digits, "_" and ".".
VIDEO_PATH = re.compile(r"/@[A-Za-z0-9_.]{1,64}/video/\d{1,30}/?")
SHORT_PATH = re.compile(r"/[A-Za-z0-9]{5,20}/?")
T_PATH = re.compile(r"/t/[A-Za-z0-9]{5,20}/?")


def _www() -> str:
    """www.tiktok.com, or the sandbox standing in for it (settings.PLATFORM_BASE_URLS)."""
    return settings.PLATFORM_BASE_URLS["tiktok_auth"].rstrip("/")


def profile_url(handle: str) -> str:
    return f"{_www()}/@{quote(handle.lstrip('@'), safe='._')}"


def is_video_url(url: str) -> bool:
    """A link to one TikTok video: https://www.tiktok.com/@handle/video/<id> (query parameters
    allowed: share links carry them), a short link, or a video page of the configured host."""
    parts = urlsplit(url.strip())
    if parts.scheme == "https" and parts.netloc in VIDEO_HOSTS:
        return bool(VIDEO_PATH.fullmatch(parts.path) or T_PATH.fullmatch(parts.path))
    if parts.scheme == "https" and parts.netloc in SHORT_HOSTS:
        return bool(SHORT_PATH.fullmatch(parts.path))
    www = urlsplit(_www())
    if (parts.scheme, parts.netloc) == (www.scheme, www.netloc) and parts.path.startswith(
        www.path + "/"
    ):
        return bool(VIDEO_PATH.fullmatch(parts.path[len(www.path) :]))
    return False


def video_url(handle: str, post_id: str) -> str:
    """The public page of one video (the shape `share_url` has in PLATFORMS §1.7)."""
    return f"{profile_url(handle)}/video/{quote(post_id, safe='')}"
