"""Where an Instagram account and its Reels are on the web: the profile a person opens to look
for a post, and the shapes of a post's link they may paste back (the `permalink` of
PLATFORMS §2.7 step 4: /reel/<shortcode>/, or /p/… and /reels/… as the app copies them)."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from django.conf import settings

POST_HOSTS = frozenset({"www.instagram.com", "instagram.com"})
POST_PATH = re.compile(r"/(?:reel|reels|p)/[A-Za-z0-9_-]{5,64}/?")


def _www() -> str:
    """www.instagram.com, or the sandbox standing in for it (settings.PLATFORM_BASE_URLS)."""
    return settings.PLATFORM_BASE_URLS["instagram_auth"].rstrip("/")


def profile_url(handle: str) -> str:
    return f"{_www()}/{quote(handle.lstrip('@'), safe='._')}/"


def is_post_url(url: str) -> bool:
    """A link to one Instagram post or Reel (query parameters allowed: shared links carry
    them), on instagram.com or the configured host."""
    parts = urlsplit(url.strip())
    if parts.scheme == "https" and parts.netloc in POST_HOSTS:
        return bool(POST_PATH.fullmatch(parts.path))
    www = urlsplit(_www())
    if (parts.scheme, parts.netloc) == (www.scheme, www.netloc) and parts.path.startswith(
        www.path + "/"
    ):
        return bool(POST_PATH.fullmatch(parts.path[len(www.path) :]))
    return False
