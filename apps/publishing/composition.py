"""A composed post as data, what must hold before it is queued, and its preflight.

Shared by the composer's form (live findings), its services (scheduling refuses on an error) and
the audit snapshots; no writes here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError

from apps.clients.models import Client
from apps.connections.models import LinkedAccount
from apps.platforms.types import Platform
from apps.publishing import direct_post, localtime
from apps.publishing.accounts import AccountCheck, account_context, account_label, publish_block
from apps.publishing.lifecycle import CHANGEABLE_STATES
from apps.publishing.models import CrossPost, MediaAsset, PublishTarget, TargetState
from apps.publishing.preflight import Finding, TargetInput, run_preflight


@dataclass(frozen=True)
class TargetPlan:
    """One chosen account and its per-platform options."""

    account: LinkedAccount
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PostContent:
    """What a person composed: the video, the caption and its per-platform overrides, the
    accounts with their options."""

    media: MediaAsset | None
    caption: str
    caption_overrides: dict[str, str]
    targets: tuple[TargetPlan, ...]

    def caption_for(self, platform: str) -> str:
        return self.caption_overrides.get(platform) or self.caption


class PreflightRefused(Exception):
    """Preflight found errors; nothing was saved."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(f.message for f in findings if f.blocks))
        self.findings = findings


class ChangeRefused(Exception):
    """The post can't be changed (any more); nothing was changed. The message is for people."""


# --- Preflight --------------------------------------------------------------------------------


def post_findings(*, content: PostContent, checks: Mapping[int, AccountCheck]) -> list[Finding]:
    """Preflight for the post as composed, plus what the platforms couldn't tell us."""
    media = content.media
    probe = media.probe_result() if media is not None else None
    media_error = ""
    if media is not None and media.probe_state == MediaAsset.ProbeState.UNREADABLE:
        media_error = media.probe_error or "The video file can't be read."
    targets = [
        TargetInput(
            account=account_context(plan.account, checks.get(plan.account.pk)),
            caption=content.caption_for(plan.account.platform),
            options=dict(plan.options),
        )
        for plan in content.targets
    ]
    if media is None and not targets:
        return []  # nothing composed yet: nothing to judge
    findings = run_preflight(
        probe=probe,
        media_error=media_error,
        targets=targets,
        media_pending=media is not None and media.is_pending,
    )
    problems = [
        check.problem
        for plan in content.targets
        if (check := checks.get(plan.account.pk)) is not None and check.problem is not None
    ]
    # An account the platform didn't answer about is reported once, with the platform's reason,
    # not again as preflight's "couldn't load the posting options".
    unanswered = {
        target.account.label
        for target, plan in zip(targets, content.targets, strict=True)
        if (check := checks.get(plan.account.pk)) is not None and check.problem
    }
    findings = [
        f for f in findings if not (f.rule == "creator.unavailable" and f.account in unanswered)
    ]
    return [*problems, *findings]


def findings_for(platform: str, findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [f.to_dict() for f in findings if f.platform in ("", platform)]


# --- Rules every write checks -----------------------------------------------------------------


def check_can_create(client: Client) -> None:
    if client.is_archived:
        raise ValidationError(f"{client.name} is archived: unarchive it to make new posts.")


def check_publishable(
    client: Client,
    content: PostContent,
    checks: Mapping[int, AccountCheck],
    *,
    scheduled_at: datetime | None,
) -> None:
    """What must hold before anything is queued, whatever the page sent (DESIGN §2 rule 3)."""
    errors: list[str] = []
    if content.media is None:
        errors.append("Choose a video.")
    elif content.media.client_id != client.pk:
        errors.append("That video belongs to another client.")
    elif not content.media.is_readable:
        errors.append(
            "The video is still being checked; wait a moment."
            if content.media.is_pending
            else "The video file can't be read; upload another one."
        )
    if not content.targets:
        errors.append("Choose at least one account.")
    for plan in content.targets:
        if plan.account.client_id != client.pk:
            errors.append(f"{account_label(plan.account)} belongs to another client.")
        block = publish_block(plan.account)
        if block:
            errors.append(f"{account_label(plan.account)} can't publish: {block}")
        if plan.account.platform == Platform.TIKTOK:
            check = checks.get(plan.account.pk)
            creator = check.creator if check else None
            problems = direct_post.direct_post_problems(plan.options, creator)
            too_long = direct_post.duration_problem(
                creator, content.media.probe_result() if content.media else None
            )
            whys = [*problems.values(), *([too_long] if too_long else [])]
            errors += [f"{account_label(plan.account)}: {why}" for why in whys]
    if scheduled_at is None:
        errors.append("Choose when to publish.")
    if errors:
        raise ValidationError(errors)


def preflight_or_refuse(content: PostContent, checks: Mapping[int, AccountCheck]) -> list[Finding]:
    findings = post_findings(content=content, checks=checks)
    if any(f.blocks for f in findings):
        raise PreflightRefused(findings)
    return findings


# --- Snapshots for the audit log --------------------------------------------------------------


def snapshot(post: CrossPost, targets: Iterable[PublishTarget]) -> dict[str, Any]:
    tz = post.client.timezone
    return {
        "media": post.media.original_name if post.media else None,
        "caption": post.caption,
        "caption_overrides": dict(post.caption_overrides),
        "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
        "scheduled_local": localtime.describe(post.scheduled_at, tz) if post.scheduled_at else None,
        "accounts": {
            account_label(t.linked_account): dict(t.options)
            for t in targets
            if t.state != TargetState.CANCELLED
        },
    }


def diff_snapshots(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: {"before": before[k], "after": after[k]} for k in after if before.get(k) != after[k]}


def live_targets(post: CrossPost) -> list[PublishTarget]:
    return list(
        post.targets.select_related("linked_account")
        .exclude(state=TargetState.CANCELLED)
        .order_by("pk")
    )


def normalized_options(plan: TargetPlan) -> dict[str, Any]:
    if plan.account.platform == Platform.TIKTOK:
        return direct_post.normalized(plan.options)
    return dict(plan.options)


def set_content(post: CrossPost, content: PostContent) -> None:
    post.media = content.media
    post.caption = content.caption
    post.caption_overrides = {k: v for k, v in content.caption_overrides.items() if v}


def editable(post: CrossPost) -> bool:
    """The composer may change the post: a draft, or every live target still waiting."""
    if post.is_draft:
        return True
    states = set(post.targets.exclude(state=TargetState.CANCELLED).values_list("state", flat=True))
    return bool(states) and states <= CHANGEABLE_STATES
