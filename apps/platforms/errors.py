"""Platform failures in our vocabulary: one exception type, six categories (STYLE rule 6).

Each platform package owns a table of `ErrorRow`s (its codes → a category and a sentence staff
understand) and a function that turns a response into a `PlatformError`. Callers branch on
`category` / `auth_reason`, never on a platform's raw code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from apps.common.http import HttpError, redact_text
from apps.platforms.types import Platform


class Category(StrEnum):
    """What the caller should do about a failure."""

    AUTH = "auth"  # the credential is unusable: refresh or reconnect (see AuthReason)
    RATE_LIMIT = "rate_limit"  # throttled: back off `retry_after` and repeat the same call
    QUOTA = "quota"  # a daily cap is used up: reschedule, don't hammer
    TRANSIENT = "transient"  # platform hiccup or stale upload: retry (see `restart`)
    CONTENT = "content"  # the media or caption was rejected: a person must change the post
    PERMANENT = "permanent"  # not allowed / our request or app config is wrong: a person must act


class AuthReason(StrEnum):
    EXPIRED = "expired"
    REVOKED = "revoked"
    PASSWORD_CHANGED = "password_changed"
    CHECKPOINT = "checkpoint"
    SCOPE_MISSING = "scope_missing"


@dataclass(frozen=True)
class ErrorRow:
    """One row of a platform's error table: the platform's code and what it means to us."""

    code: str
    category: Category
    message: str
    auth_reason: AuthReason | None = None
    # Seconds to wait when the platform documents a window but sends no Retry-After.
    retry_after: int | None = None
    # True when repeating the call is useless and the whole sequence (init/container) must restart.
    restart: bool = False
    source: str = ""  # PLATFORMS.md section the row comes from


class PlatformError(Exception):
    """A platform call failed; `message` is safe to show staff and never contains a secret."""

    def __init__(
        self,
        *,
        platform: Platform | str,
        category: Category,
        code: str,
        message: str,
        auth_reason: AuthReason | None = None,
        http_status: int | None = None,
        retry_after: int | None = None,
        log_id: str = "",
        detail: str = "",
        restart: bool = False,
        timeout: bool = False,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.platform = Platform(platform)
        self.category = category
        self.code = code
        self.message = message
        self.auth_reason = auth_reason
        self.http_status = http_status
        self.retry_after = retry_after
        self.log_id = log_id
        # The platform's own words, redacted of anything token-shaped; for logs, not for staff.
        self.detail = redact_text(detail)[:500]
        self.restart = restart
        self.timeout = timeout
        # No trustworthy answer came back, so a non-idempotent call may or may not have taken
        # effect; the publish step reconciles before repeating (DESIGN §2 principle 4).
        self.outcome_unknown = outcome_unknown

    @classmethod
    def from_row(
        cls,
        row: ErrorRow,
        *,
        platform: Platform,
        http_status: int | None = None,
        retry_after: int | None = None,
        log_id: str = "",
        detail: str = "",
    ) -> PlatformError:
        return cls(
            platform=platform,
            category=row.category,
            code=row.code,
            message=row.message,
            auth_reason=row.auth_reason,
            http_status=http_status,
            retry_after=retry_after if retry_after is not None else row.retry_after,
            log_id=log_id,
            detail=detail,
            restart=row.restart,
            outcome_unknown=http_status is not None and http_status >= 500,
        )

    @property
    def retryable(self) -> bool:
        return self.category in (Category.TRANSIENT, Category.RATE_LIMIT)

    def __str__(self) -> str:
        return f"{self.platform} {self.category} ({self.code}): {self.message}"

    def __repr__(self) -> str:
        return (
            f"PlatformError(platform={self.platform!s}, category={self.category!s}, "
            f"code={self.code!r}, http_status={self.http_status!r})"
        )


def transport_error(exc: HttpError, *, platform: Platform) -> PlatformError:
    """No response arrived (timeout, refused, reset): transient, and the outcome is unknown."""
    name = platform.label
    if exc.timeout:
        message = f"{name} did not answer in time; it may or may not have acted on the request."
    else:
        message = f"Switchboard could not reach {name}; the request may not have arrived."
    return PlatformError(
        platform=platform,
        category=Category.TRANSIENT,
        code="timeout" if exc.timeout else "network_error",
        message=message,
        detail=str(exc),
        timeout=exc.timeout,
        outcome_unknown=True,
    )


def parse_retry_after(value: str | None) -> int | None:
    """Seconds from a Retry-After header in its delta-seconds form; dates are ignored."""
    if value is None:
        return None
    try:
        seconds = int(value.strip())
    except ValueError:
        return None
    return max(seconds, 0)
