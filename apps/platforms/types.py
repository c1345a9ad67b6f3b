"""Typed values shared by both platform packages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import models


class Platform(models.TextChoices):
    """The platforms Switchboard publishes to: the one enum of the whole project (the sandbox,
    which must not import this package, keeps its own)."""

    TIKTOK = "tiktok", "TikTok"
    INSTAGRAM = "instagram", "Instagram"


@dataclass(frozen=True)
class TokenSet:
    """Tokens as a platform returned them; lifetimes are the remaining seconds it reported.

    Token values are left out of `repr` so a stray log line or traceback cannot leak them.
    """

    access_token: str = field(repr=False)
    expires_in: int | None
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_in: int | None = None
    # The platform's account id the token belongs to (TikTok open_id, Instagram user_id).
    account_id: str = ""
    # Scopes/permissions actually granted; None when the response did not say (IG legacy shape).
    scopes: frozenset[str] | None = None
    token_type: str = "Bearer"

    def expires_at(self, obtained_at: datetime) -> datetime | None:
        if self.expires_in is None:
            return None
        return obtained_at + timedelta(seconds=self.expires_in)

    def refresh_expires_at(self, obtained_at: datetime) -> datetime | None:
        if self.refresh_expires_in is None:
            return None
        return obtained_at + timedelta(seconds=self.refresh_expires_in)

    def missing_scopes(self, required: frozenset[str] | set[str]) -> frozenset[str]:
        """Required scopes the platform did not grant (empty when the grant is unknown)."""
        if self.scopes is None:
            return frozenset()
        return frozenset(required) - self.scopes


def split_scopes(value: object) -> frozenset[str] | None:
    """Scopes from a comma- or space-separated string or a list; None when absent."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        items = [str(item) for item in value]
    else:
        items = str(value).replace(" ", ",").split(",")
    return frozenset(item.strip() for item in items if item.strip())


@dataclass(frozen=True)
class VideoLimits:
    """A platform's accepted video, as data for preflight (None = no documented limit)."""

    containers: frozenset[str]
    video_codecs: frozenset[str]
    audio_codecs: frozenset[str] | None
    min_fps: float
    max_fps: float
    min_width: int | None
    max_width: int | None
    min_height: int | None
    max_height: int | None
    min_duration_s: float | None
    max_duration_s: float
    max_bytes: int
    max_bitrate_bps: int | None = None
    min_aspect: float | None = None  # width / height
    max_aspect: float | None = None
    max_audio_sample_rate_hz: int | None = None
    max_audio_channels: int | None = None


@dataclass(frozen=True)
class CaptionLimits:
    max_length: int
    # "utf16": UTF-16 code units (TikTok's rule); "chars": code points (Instagram's wording).
    length_unit: str
    max_hashtags: int | None = None
    max_mentions: int | None = None
