"""Template helpers for media pages and the upload widget."""

from __future__ import annotations

from typing import Any

from django import template

from apps.publishing.assets.uploads import max_upload_bytes
from apps.publishing.assets.uploads import megabytes as _megabytes

register = template.Library()

PROBE_BADGES = {"pending": "badge-info", "ok": "badge-ok", "unreadable": "badge-bad"}


@register.filter
def megabytes(size: Any) -> str:
    try:
        return _megabytes(int(size))
    except (TypeError, ValueError):
        return ""


@register.filter
def duration(seconds: Any) -> str:
    """30.4 -> "0:30", 3725 -> "1:02:05"."""
    try:
        total = int(float(seconds))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def probe_badge(state: str) -> str:
    return PROBE_BADGES.get(state, "")


@register.simple_tag
def media_max_upload_bytes() -> int:
    return max_upload_bytes()


@register.filter
def display_size(probe: Any) -> str:
    """Width by height as the video is shown (rotation applied), from a stored probe dict."""
    if not isinstance(probe, dict) or not probe.get("width"):
        return ""
    width, height = probe["width"], probe.get("height", 0)
    if int(probe.get("rotation") or 0) % 180 == 90:
        width, height = height, width
    return f"{width}×{height}"
