"""The publish task's service: one run of one target (DESIGN §6 Publish task).

`target_publish(target_id, token)` takes the target over from whoever handed it out (the
dispatcher's token, swapped for the run's own in one conditional UPDATE, so a task delivered
twice runs once), moves `dispatched → publishing`, re-checks the account, runs the due-time
preflight on a fresh start, and lets the platform's publisher advance from the checkpoint. What
the step ends in decides the next state; a PlatformError goes through `on_error` by category.
Nothing here sleeps: a target that must wait is parked with `lease_until` as its wake-up time
and the dispatcher hands it out again then.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.connections import vault
from apps.connections.models import CLOSED_STATES
from apps.connections.services.failure_policy import account_apply_error
from apps.platforms.errors import Category, PlatformError
from apps.publishing.accounts import account_label, publish_block
from apps.publishing.composition import PostContent, TargetPlan, post_findings
from apps.publishing.lifecycle import IN_FLIGHT_STATES, crosspost_refresh_status
from apps.publishing.models import PublishTarget, TargetState
from apps.publishing.pipeline.run import (
    Failed,
    LeaseLost,
    Published,
    Run,
    StepResult,
    Unknown,
    Wait,
    lease_until,
    new_owner,
)
from apps.publishing.publishers import publisher_for

logger = logging.getLogger(__name__)
_jitter = random.Random()  # noqa: S311 - spreading retries, not security

# Checkpoint keys that mean the platform may hold something of this target's: a run that finds
# one resumes and reconciles; a run that finds none starts fresh (preflight, creator info).
PROGRESS_KEYS = ("init_sent_at", "publish_id", "container_sent_at", "container_id", "media_id")
# Keys that mean a call that is not idempotent may have taken effect: giving up after them is
# "unconfirmed", never "failed".
MAYBE_POSTED_KEYS = ("init_sent_at", "publish_id", "publish_sent_at", "upload_done")
# Every key a step stores when it went through (the transient-failure count is per stage).
STAGE_KEYS = (*PROGRESS_KEYS, "upload_done", "publish_sent_at", "restarts")

FIX_HINTS = {
    Category.CONTENT: "Change the video or the caption, then retry.",
    Category.PERMANENT: "Check the account page, then retry.",
}


@dataclass(frozen=True)
class RetryLater:
    """Back to `retry_wait` until `at` (the run gives the target back)."""

    at: datetime
    reason: str
    code: str = ""


def target_publish(*, target_id: int, token: str) -> str:
    """Run target `target_id` if `token` still hands it out; returns what happened, for logs."""
    owner = new_owner()
    target = _take_over(target_id, token, owner)
    if target is None:
        return "not handed out to this task (taken by another run, moved or cancelled)"
    run = Run(target=target, account=target.linked_account, owner=owner)
    run.checkpoint = dict(target.checkpoint or {})
    try:
        try:
            if target.state == TargetState.DISPATCHED:
                attempts = target.attempts + 1
                run.move(TargetState.PUBLISHING, "A worker started publishing.", attempts=attempts)
                crosspost_refresh_status(target.crosspost)
            result: StepResult | RetryLater = _advance(run)
        except PlatformError as error:
            result = on_error(run, error)
        except vault.NoCredential:
            result = Failed(
                "The account has no stored authorization; reconnect it.", "no_credential"
            )
        return _apply(run, result)
    except LeaseLost:
        # A webhook, a person or a run that took over moved the target first: theirs stands.
        return "lease lost: the target moved or another run took it over"


def _take_over(target_id: int, token: str, owner: str) -> PublishTarget | None:
    updated = PublishTarget.objects.filter(
        pk=target_id,
        lease_owner=token,
        state__in=[TargetState.DISPATCHED, *IN_FLIGHT_STATES],
    ).update(lease_owner=owner, lease_until=lease_until())
    if not token or not updated:
        return None
    return (
        PublishTarget.objects.select_related(
            "crosspost__client", "crosspost__media", "linked_account__client"
        )
        .filter(pk=target_id)
        .first()
    )


def _advance(run: Run) -> StepResult | RetryLater:
    account = run.account
    block = publish_block(account)
    if block and run.target.state != TargetState.PROCESSING:
        if account.state in CLOSED_STATES:
            return Failed(f"{account_label(account)} was disconnected: {block}", "disconnected")
        return _wait_for_reconnect(run, block)
    publisher = publisher_for(run.platform)
    if not any(key in run.checkpoint for key in PROGRESS_KEYS):
        check = publisher.account_check(run)
        problem = _preflight_error(run, check)
        if problem is not None:
            return problem
    return publisher.advance(run)


def _preflight_error(run: Run, check: Any) -> Failed | None:
    """The due-time preflight (DESIGN §6): an error finding fails the target before any
    publishing call."""
    post = run.target.crosspost
    content = PostContent(
        media=post.media,
        caption=post.caption,
        caption_overrides=post.caption_overrides,
        targets=(TargetPlan(account=run.account, options=dict(run.target.options)),),
    )
    findings = post_findings(content=content, checks={run.account.pk: check})
    errors = [f for f in findings if f.blocks]
    if not errors:
        return None
    first = errors[0]
    message = first.message + (f" {first.fix}." if first.fix else "")
    PublishTarget.objects.filter(pk=run.target.pk).update(findings=[f.to_dict() for f in findings])
    return Failed(f"Preflight at the due time: {message}", code=first.rule)


def _wait_for_reconnect(run: Run, why: str) -> RetryLater | Failed:
    due = run.target.due_at or run.target.state_changed_at
    deadline = due + timedelta(seconds=settings.PUBLISH_RECONNECT_WAIT_SECONDS)
    now = timezone.now()
    if now >= deadline:
        return Failed(
            f"{account_label(run.account)} wasn't reconnected in time: {why}", "reconnect_timeout"
        )
    return RetryLater(
        at=min(now + timedelta(minutes=5), deadline),
        reason=f"Waiting for {account_label(run.account)} to be reconnected: {why}",
        code="waiting_for_reconnect",
    )


def on_error(run: Run, error: PlatformError) -> StepResult | RetryLater:
    """A platform call failed: what the category says to do (DESIGN §6 Errors)."""
    logger.info("publish of target %s: %s", run.target.pk, error)
    if error.category in (Category.AUTH, Category.QUOTA, Category.PERMANENT):
        # Account-level news (auth, bans, caps) moves the account per the connections policy.
        account_apply_error(account=run.account, error=error, during="publish")
    now = timezone.now()
    processing = run.target.state == TargetState.PROCESSING
    if error.category == Category.AUTH:
        if processing:
            return Wait(300, "The account needs attention; checking the post again later.")
        run.account.refresh_from_db()
        return _wait_for_reconnect(run, error.message)
    if error.category in (Category.RATE_LIMIT, Category.QUOTA):
        default = 60 if error.category == Category.RATE_LIMIT else 3600
        seconds = error.retry_after or default
        if processing:
            return Wait(seconds, error.message)
        return RetryLater(now + timedelta(seconds=seconds), error.message, error.code)
    if error.category == Category.TRANSIENT:
        # Counted per stage: a step that went through (a checkpoint key stored, a poll answered)
        # starts the count again, so a long delivery is not given up for failures spread over
        # its steps, and a step that keeps failing is still bounded.
        stage = _stage(run.checkpoint)
        same_stage = run.checkpoint.get("transient_stage") == stage
        failures = (int(run.checkpoint.get("transient_failures") or 0) if same_stage else 0) + 1
        run.save(transient_failures=failures, transient_stage=stage)
        if failures >= settings.PUBLISH_MAX_ATTEMPTS:
            message = f"{error.message} (gave up after {failures} tries)"
            if any(key in run.checkpoint for key in MAYBE_POSTED_KEYS):
                return Unknown(message)
            return Failed(message, error.code)
        delay = min(
            settings.PUBLISH_BACKOFF_SECONDS * 2 ** (failures - 1),
            settings.PUBLISH_BACKOFF_MAX_SECONDS,
        ) * _jitter.uniform(0.5, 1.0)
        if processing:
            return Wait(delay, error.message)
        return RetryLater(now + timedelta(seconds=delay), error.message, error.code)
    # The platform's words, and what a person can do about them when they don't say it already.
    hint = FIX_HINTS.get(error.category, "")
    message = f"{error.message} {hint}".strip()
    return Failed(message if len(message) <= 300 else error.message, error.code)


def _stage(checkpoint: dict[str, Any]) -> str:
    """Where a delivery has got to: the progress keys it has stored and the polls answered."""
    keys = [key for key in STAGE_KEYS if checkpoint.get(key)]
    return ",".join(keys) + f"#{int(checkpoint.get('polls') or 0)}"


def _apply(run: Run, result: StepResult | RetryLater) -> str:
    """Store what the run ended in: a state move, or a parked target with its wake-up time."""
    now = timezone.now()
    target = run.target
    with transaction.atomic():
        if isinstance(result, Published):
            checkpoint = {**run.checkpoint, "post_id": result.post_id or None}
            run.checkpoint = {k: v for k, v in checkpoint.items() if v is not None}
            run.move(
                TargetState.PUBLISHED,
                result.note or "The platform confirmed the post.",
                published_at=now,
                permalink=result.permalink[:500],
                lease_owner="",
                lease_until=None,
                next_attempt_at=None,
            )
        elif isinstance(result, Wait):
            if result.accepted and "accepted_at" not in run.checkpoint:
                run.checkpoint = {**run.checkpoint, "accepted_at": now.isoformat()}
            wake = now + timedelta(seconds=result.seconds)
            if result.accepted and target.state == TargetState.PUBLISHING:
                run.move(
                    TargetState.PROCESSING,
                    result.note,
                    lease_owner="",
                    lease_until=wake,
                    next_attempt_at=wake,
                )
            else:
                _park(run, wake)
                return f"waiting {result.seconds:.0f}s: {result.note}"
        elif isinstance(result, RetryLater):
            run.move(
                TargetState.RETRY_WAIT,
                result.reason,
                lease_owner="",
                lease_until=None,
                next_attempt_at=result.at,
                last_error_code=result.code[:100],
                last_error_message=result.reason[:500],
            )
        elif isinstance(result, Failed):
            run.move(
                TargetState.FAILED,
                result.message,
                lease_owner="",
                lease_until=None,
                next_attempt_at=None,
                last_error_code=result.code[:100],
                last_error_message=result.message[:500],
            )
        else:
            run.move(
                TargetState.UNCONFIRMED,
                result.message,
                lease_owner="",
                lease_until=None,
                next_attempt_at=None,
                last_error_message=result.message[:500],
            )
        crosspost_refresh_status(target.crosspost)
    return f"now {target.state}"


def _park(run: Run, wake: datetime) -> None:
    updated = PublishTarget.objects.filter(
        pk=run.target.pk, state=run.target.state, lease_owner=run.owner
    ).update(checkpoint=run.checkpoint, lease_owner="", lease_until=wake, next_attempt_at=wake)
    if not updated:
        raise LeaseLost(f"target {run.target.pk} moved before it could be parked")
