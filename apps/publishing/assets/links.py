"""Signed, expiring public URLs through which a platform fetches a video (PLATFORMS §2.7:
Instagram's `video_url` must be public; Meta fetches it without cookies and refuses redirects).

The token is a django.core.signing value (HMAC-SHA256 under SECRET_KEY with its own salt) over
the asset's id, its client's id, a prefix of its SHA-256 and an expiry time. Any change to the
token breaks the signature; a token names exactly one asset of one client with one content, so
it can neither be re-pointed at another client's media nor outlive its expiry.
"""

from __future__ import annotations

import hmac
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from apps.publishing.models import MediaAsset

_SALT = "switchboard.publishing.media-public"
_HASH_PREFIX = 16  # hex digits of the file's SHA-256 bound into the token


def signed_media_url(asset: MediaAsset, ttl: int | timedelta | None = None) -> str:
    """An absolute URL under PUBLIC_BASE_URL serving `asset` until `ttl` (seconds or a
    timedelta; default MEDIA_PUBLIC_URL_TTL) from now."""
    if ttl is None:
        ttl = settings.MEDIA_PUBLIC_URL_TTL
    seconds = int(ttl.total_seconds()) if isinstance(ttl, timedelta) else int(ttl)
    if seconds <= 0:
        raise ValueError("A signed media URL needs a positive lifetime.")
    payload = {
        "a": asset.pk,
        "c": asset.client_id,
        "h": asset.sha256[:_HASH_PREFIX],
        "e": int(time.time()) + seconds,
    }
    token = signing.dumps(payload, salt=_SALT)
    return settings.PUBLIC_BASE_URL + reverse("publishing:media_public", kwargs={"token": token})


def asset_for_token(token: str) -> MediaAsset | None:
    """The asset a valid, unexpired token names; None for a bad, tampered or expired token, or
    one whose asset is gone, changed content or belongs to another client."""
    try:
        payload: Any = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    asset_id, client_id, hash_prefix, expires = (payload.get(k) for k in ("a", "c", "h", "e"))
    if not (
        isinstance(asset_id, int)
        and isinstance(client_id, int)
        and isinstance(hash_prefix, str)
        and isinstance(expires, int)
    ):
        return None
    if time.time() >= expires:
        return None
    asset = MediaAsset.objects.filter(pk=asset_id, client_id=client_id).first()
    if asset is None or not hmac.compare_digest(asset.sha256[:_HASH_PREFIX], hash_prefix):
        return None
    return asset
