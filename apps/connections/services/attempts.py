"""Every outbound refresh and revoke leaves a row (STYLE rule 8), recorded in one place."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.utils import timezone

from apps.connections.models import AccountAttempt
from apps.platforms.errors import PlatformError

T = TypeVar("T")
Outcome = AccountAttempt.Outcome


def attempt_call(
    *,
    account_id: int | None,
    kind: AccountAttempt.Kind,
    call: Callable[[], T],
    confirmed: Callable[[T], bool] = lambda _result: True,
    unconfirmed: str = "",
    platform: str = "",
    external_id: str = "",
) -> T:
    """Run `call` as one recorded attempt and return its result; a PlatformError is recorded
    (outcome unknown when no trustworthy answer came back) and raised again. A result that
    `confirmed` rejects is recorded as failed with the `unconfirmed` sentence.

    Without an account (`account_id=None`: a grant nobody has linked) the row names the platform
    account by `platform` and `external_id` instead."""
    if account_id is None and not platform:
        raise ValueError("An attempt without an account must name its platform account.")
    attempt = AccountAttempt.objects.create(
        account_id=account_id,
        kind=kind,
        platform="" if account_id is not None else platform,
        external_id="" if account_id is not None else external_id[:128],
    )
    started = time.monotonic()
    try:
        result = call()
    except PlatformError as error:
        attempt.outcome = Outcome.UNKNOWN if error.outcome_unknown else Outcome.FAILED
        attempt.error_code = error.code[:100]
        attempt.message = error.message[:300]
        _finish(attempt, started)
        raise
    if confirmed(result):
        attempt.outcome = Outcome.OK
    else:
        attempt.outcome = Outcome.FAILED
        attempt.message = unconfirmed[:300]
    _finish(attempt, started)
    return result


def _finish(attempt: AccountAttempt, started: float) -> None:
    attempt.finished_at = timezone.now()
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    attempt.save(update_fields=["finished_at", "duration_ms", "outcome", "error_code", "message"])
