"""How each account's part of a post reads on the post page while it goes out: its platform
calls in people's words (PublishAttempt rows, DESIGN §4), the upload's progress from the
checkpoint, what a person may do about it, and whether the page should keep asking for news.

Pure functions over rows the selector already loaded: no query here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apps.platforms import links
from apps.platforms.types import Platform
from apps.publishing.accounts import publish_block
from apps.publishing.models import PublishAttempt, PublishTarget, TargetState

# A scheduled target this close to its time makes the page follow along: someone who opens a
# post just before it goes out sees it go without reloading.
LIVE_LEAD = timedelta(minutes=10)
# The states in which the platform calls are still happening or about to (the page polls).
MOVING_STATES = frozenset(
    {
        TargetState.DISPATCHED,
        TargetState.PUBLISHING,
        TargetState.PROCESSING,
        TargetState.RETRY_WAIT,
    }
)
# PLATFORMS §1.11 rule 5: after posting, tell people processing can take a few minutes.
PROCESSING_NOTE_STATES = frozenset(
    {TargetState.PUBLISHING, TargetState.PROCESSING, TargetState.PUBLISHED}
)

# Steps of the platforms' sequences (apps/publishing/models.py PublishAttempt.step) in words.
STEP_LABELS: dict[str, str] = {
    "creator_info": "Asked {platform} what the account may post",
    "init": "Started the upload with {platform}",
    "upload_chunk": "Sent the video to {platform}",
    "upload": "Sent the video to {platform}",
    "status": "Asked {platform} how processing is going",
    "quota": "Checked the account's daily publishing limit",
    "container": "Gave {platform} the video to fetch",
    "container_status": "Asked {platform} whether the video is ready",
    "publish": "Asked {platform} to publish it",
    "permalink": "Fetched the post's link",
    "video_list": "Looked for the video among the account's posts",
    "reconcile": "Checked with {platform} what happened",
    "webhook": "Heard from {platform}",
}
OUTCOME_BADGES: dict[str, str] = {
    PublishAttempt.Outcome.OK: "badge-ok",
    PublishAttempt.Outcome.TRANSIENT: "badge-warn",
    PublishAttempt.Outcome.PERMANENT: "badge-bad",
    PublishAttempt.Outcome.UNKNOWN: "badge-warn",
}


@dataclass(frozen=True)
class TimelineEntry:
    """One platform call, or several identical ones in a row (chunks, status polls)."""

    step: str
    label: str
    outcome: str
    outcome_label: str
    badge: str
    message: str
    http_status: int | None
    error_code: str
    started_at: datetime
    count: int
    duration_ms: int | None  # all of them together; None while one is still running

    @property
    def duration(self) -> str:
        return duration_text(self.duration_ms)


@dataclass(frozen=True)
class UploadProgress:
    sent: int
    total: int

    @property
    def percent(self) -> int:
        return min(100, self.sent * 100 // self.total) if self.total else 0

    @property
    def text(self) -> str:
        return f"{size_text(self.sent)} of {size_text(self.total)} ({self.percent}%)"


@dataclass(frozen=True)
class TargetView:
    target: PublishTarget
    entries: list[TimelineEntry]
    progress: UploadProgress | None
    profile_url: str
    processing_note: bool
    # What a person may do: retry a failed target; answer for an unconfirmed one, and ask for
    # it to be published again (not for an archived client or an account that can't publish,
    # `blocked` says why).
    can_retry: bool
    can_confirm: bool
    can_publish_again: bool
    blocked: str
    confirm_form: Any = None


def step_label(step: str, platform: str) -> str:
    name = Platform(platform).label if platform in Platform.values else platform
    template = STEP_LABELS.get(step)
    return template.format(platform=name) if template else step.replace("_", " ").capitalize()


def duration_text(ms: int | None) -> str:
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def size_text(size: int) -> str:
    if size < 1_000_000:
        return f"{size / 1000:.0f} kB" if size >= 1000 else f"{size} bytes"
    if size < 1_000_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{size / 1_000_000_000:.2f} GB"


def _same_call(a: PublishAttempt, b: PublishAttempt) -> bool:
    return (a.step, a.outcome, a.message, a.http_status, a.error_code) == (
        b.step,
        b.outcome,
        b.message,
        b.http_status,
        b.error_code,
    ) and bool(a.finished_at and b.finished_at)


def timeline(calls: Sequence[PublishAttempt], platform: str) -> list[TimelineEntry]:
    """The calls in order (started_at, id), runs of identical finished calls as one entry."""
    groups: list[list[PublishAttempt]] = []
    for call in calls:
        if groups and _same_call(groups[-1][-1], call):
            groups[-1].append(call)
        else:
            groups.append([call])
    entries = []
    for group in groups:
        first = group[0]
        running = any(c.finished_at is None for c in group)
        durations = [c.duration_ms for c in group]
        total = None if running or None in durations else sum(d or 0 for d in durations)
        outcome = first.outcome if first.outcome else ""
        entries.append(
            TimelineEntry(
                step=first.step,
                label=step_label(first.step, platform),
                outcome=outcome,
                outcome_label=(PublishAttempt.Outcome(outcome).label if outcome else "In progress"),
                badge=OUTCOME_BADGES.get(outcome, "badge-info") if outcome else "badge-info",
                message=first.message,
                http_status=first.http_status,
                error_code=first.error_code,
                started_at=first.started_at,
                count=len(group),
                duration_ms=total,
            )
        )
    return entries


def upload_progress(target: PublishTarget) -> UploadProgress | None:
    """Bytes sent so far, while the publish task is sending them (checkpoint `uploaded_bytes`
    and `total_bytes`); None before the upload starts and once it is complete."""
    if target.state != TargetState.PUBLISHING:
        return None
    checkpoint = target.checkpoint or {}
    sent, total = checkpoint.get("uploaded_bytes"), checkpoint.get("total_bytes")
    if not isinstance(sent, int) or not isinstance(total, int) or total <= 0:
        return None
    if sent >= total:
        return None
    return UploadProgress(sent=max(0, sent), total=total)


def is_moving(target: PublishTarget, *, now: datetime) -> bool:
    """Whether the target's state may change without anyone on the page doing anything soon."""
    if target.state in MOVING_STATES:
        return True
    return bool(
        target.state == TargetState.SCHEDULED
        and target.due_at is not None
        and target.due_at <= now + LIVE_LEAD
    )


def target_views(
    targets: Iterable[PublishTarget],
    *,
    archived: bool,
    confirm_form: Callable[[PublishTarget], Any],
) -> list[TargetView]:
    """The page's view of each target (`targets` come with their account and `calls`
    prefetched); `confirm_form(target)` gives the question for an unconfirmed one."""
    views = []
    for target in targets:
        account = target.linked_account
        failed = target.state == TargetState.FAILED
        can_confirm = target.state == TargetState.UNCONFIRMED
        blocked = ""
        if failed or can_confirm:
            blocked = "The client is archived." if archived else publish_block(account)
        views.append(
            TargetView(
                target=target,
                entries=timeline(list(target.calls.all()), target.platform),
                progress=upload_progress(target),
                profile_url=links.profile_url(target.platform, account.handle),
                processing_note=(
                    target.platform == Platform.TIKTOK and target.state in PROCESSING_NOTE_STATES
                ),
                can_retry=failed and not blocked,
                can_confirm=can_confirm,
                can_publish_again=can_confirm and not blocked,
                blocked=blocked,
                confirm_form=confirm_form(target) if can_confirm else None,
            )
        )
    return views
