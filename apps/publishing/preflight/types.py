"""Preflight's inputs and its result: findings (DESIGN §6)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from apps.platforms.types import Platform


class Severity(StrEnum):
    ERROR = "error"  # blocks scheduling (and publishing when found at the due time)
    WARNING = "warning"  # shown, does not block


@dataclass(frozen=True)
class Finding:
    platform: str  # a Platform value, or "" for a finding about the post as a whole
    rule: str  # a stable code, e.g. "duration.max", "caption.hashtags", "account.reconnect"
    severity: Severity
    message: str  # a sentence a person understands
    fix: str = ""  # what to do about it ("Trim to 3:00 or less — this TikTok account allows …")
    fix_url: str = ""  # where to do it, when it is a page (e.g. the account's reconnect page)
    # The target account's label ("@handle on TikTok") when the finding is about one account
    # (its options, state, creator info, or a limit that is the account's own), else "".
    account: str = ""

    @property
    def blocks(self) -> bool:
        return self.severity == Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "severity": str(self.severity)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**{**data, "severity": Severity(data["severity"])})


@dataclass(frozen=True)
class CreatorInfo:
    """TikTok creator_info as preflight needs it (PLATFORMS §1.6(a)); `error` holds a
    posting-cap or ban code returned with HTTP 200 (spam_risk_too_many_posts, …)."""

    nickname: str = ""
    avatar_url: str = ""
    privacy_level_options: tuple[str, ...] = ()
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int | None = None
    error: str = ""


@dataclass(frozen=True)
class AccountContext:
    """One target account as preflight sees it."""

    platform: Platform
    label: str  # "@handle on TikTok"
    can_publish: bool  # state and capability allow publishing now
    blocked_reason: str = ""  # why not, in words (state reason or capability reason)
    reconnect_url: str = ""
    creator: CreatorInfo | None = None  # TikTok only; None when it could not be fetched
    # Instagram: posts left in the rolling 24 h (content_publishing_limit), None when unknown.
    posts_left: int | None = None


@dataclass(frozen=True)
class TargetInput:
    account: AccountContext
    caption: str  # the caption this platform gets (override or the shared one)
    options: dict[str, Any] = field(default_factory=dict)
