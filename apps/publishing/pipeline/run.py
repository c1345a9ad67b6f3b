"""One worker's hold on one target while it publishes (DESIGN §6: checkpoints and leases).

A `Run` owns the target's lease (`lease_owner` = its random token). Everything it writes — the
checkpoint before and after a call that is not idempotent, the upload's progress, the state
moves — is a conditional UPDATE on that token, and renews the lease. A run whose lease was taken
over (it was too slow, or presumed dead) gets `LeaseLost` at its next write and stops before it
can repeat anything its successor now owns.

`Run.call()` makes one platform call with the account's bearer (refreshed at most once, through
the connections vault) and leaves a `PublishAttempt` row for it — written before the call, so a
worker killed mid-call leaves a row whose outcome is unknown, finished after it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.utils import timezone

from apps.connections import vault
from apps.connections.models import LinkedAccount
from apps.platforms.errors import Category, PlatformError
from apps.publishing.lifecycle import StaleTarget, target_transition
from apps.publishing.models import PublishAttempt, PublishTarget, TargetState

T = TypeVar("T")


class LeaseLost(Exception):
    """Another run holds the target now, or someone moved it: this run must stop."""


def new_owner() -> str:
    return secrets.token_hex(8)


def lease_until(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(seconds=settings.PUBLISH_LEASE_SECONDS)


# --- What a publisher's step ends in ----------------------------------------------------------


@dataclass(frozen=True)
class Published:
    post_id: str = ""
    permalink: str = ""
    note: str = ""


@dataclass(frozen=True)
class Wait:
    """The platform is working on it: ask again in `seconds` (never sleep in a worker)."""

    seconds: float
    note: str = ""
    # The platform has accepted the post (TikTok has every byte; Instagram was told to publish).
    accepted: bool = False


@dataclass(frozen=True)
class Failed:
    """Nothing more can be done without a person: the platform refused the post."""

    message: str
    code: str = ""


@dataclass(frozen=True)
class Unknown:
    """Whether the post went out cannot be known: a person must look (DESIGN §6 unconfirmed)."""

    message: str


StepResult = Published | Wait | Failed | Unknown


@dataclass
class Run:
    target: PublishTarget
    account: LinkedAccount
    owner: str
    checkpoint: dict[str, Any] = field(default_factory=dict)

    @property
    def platform(self) -> str:
        return self.target.platform

    def save(self, **changes: Any) -> None:
        """Commit `changes` to the checkpoint (a None value removes a key) and renew the lease.
        Raises LeaseLost when this run no longer holds the target."""
        checkpoint = {**self.checkpoint, **changes}
        for key in [k for k, v in checkpoint.items() if v is None]:
            del checkpoint[key]
        until = lease_until()
        updated = PublishTarget.objects.filter(
            pk=self.target.pk, state=self.target.state, lease_owner=self.owner
        ).update(checkpoint=checkpoint, lease_until=until)
        if not updated:
            raise LeaseLost(f"target {self.target.pk} is no longer held by run {self.owner}")
        self.checkpoint = checkpoint
        self.target.checkpoint = checkpoint
        self.target.lease_until = until

    def move(self, to: TargetState, reason: str = "", **fields: Any) -> None:
        """A fenced state move: only while this run holds the lease."""
        try:
            target_transition(
                target=self.target,
                to=to,
                reason=reason,
                owner=self.owner,
                checkpoint=self.checkpoint,
                **fields,
            )
        except StaleTarget as stale:
            raise LeaseLost(str(stale)) from None

    def call(self, step: str, call: Callable[[str], T], *, summary: str = "") -> T:
        """Make one platform call with the account's bearer; one PublishAttempt row for it."""
        attempt = PublishAttempt.objects.create(
            target=self.target, step=step, request_summary=summary[:300]
        )
        started = time.monotonic()
        try:
            result = vault.call_with_fresh_bearer(self.account, call)
        except PlatformError as error:
            _finish(attempt, started, outcome=outcome_of(error), error=error)
            raise
        except vault.NoCredential:
            _finish(
                attempt,
                started,
                outcome=PublishAttempt.Outcome.PERMANENT,
                message="No stored authorization for this account.",
            )
            raise
        except Exception:
            _finish(
                attempt,
                started,
                outcome=PublishAttempt.Outcome.UNKNOWN,
                message="The call ended with an unexpected error.",
            )
            raise
        _finish(attempt, started, outcome=PublishAttempt.Outcome.OK)
        return result


def outcome_of(error: PlatformError) -> PublishAttempt.Outcome:
    if error.outcome_unknown or error.timeout:
        return PublishAttempt.Outcome.UNKNOWN
    if error.category in (Category.TRANSIENT, Category.RATE_LIMIT, Category.QUOTA):
        return PublishAttempt.Outcome.TRANSIENT
    return PublishAttempt.Outcome.PERMANENT


def _finish(
    attempt: PublishAttempt,
    started: float,
    *,
    outcome: PublishAttempt.Outcome,
    error: PlatformError | None = None,
    message: str = "",
) -> None:
    attempt.finished_at = timezone.now()
    attempt.duration_ms = round((time.monotonic() - started) * 1000)
    attempt.outcome = outcome
    if error is not None:
        attempt.category = str(error.category)
        attempt.http_status = error.http_status
        attempt.error_code = error.code[:100]
        message = error.message
    attempt.message = message[:500]
    attempt.save(
        update_fields=[
            "finished_at",
            "duration_ms",
            "outcome",
            "category",
            "http_status",
            "error_code",
            "message",
        ]
    )


def note_call(target: PublishTarget, step: str, *, message: str, ok: bool = True) -> None:
    """A row for something the pipeline learned without calling out (a webhook's news)."""
    now = timezone.now()
    PublishAttempt.objects.create(
        target=target,
        step=step,
        started_at=now,
        finished_at=now,
        duration_ms=0,
        outcome=PublishAttempt.Outcome.OK if ok else PublishAttempt.Outcome.PERMANENT,
        message=message[:500],
    )
