"""Writes of the composer: drafts, scheduling, edits, reschedules and cancels (DESIGN §6).

Every service owns its transaction and writes its audit event inside it (STYLE rule 2). Platform
answers (TikTok creator info, Instagram quota) are gathered by the caller before the transaction
(`apps.publishing.accounts.check_accounts`) and passed in; preflight itself is pure.

Races with the dispatcher: a target may leave its state between our read and our write. Every
target write is conditional on the state we read (`lifecycle.target_transition` or an UPDATE …
WHERE state = …); when one finds the row moved, `StaleTarget` rolls the whole change back and the
caller gets `ChangeRefused` with a sentence for people. A change is never applied to some targets
only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.clients.models import Client
from apps.publishing import localtime
from apps.publishing.accounts import AccountCheck, account_label
from apps.publishing.composition import (
    ChangeRefused,
    PostContent,
    check_can_create,
    check_publishable,
    diff_snapshots,
    findings_for,
    live_targets,
    normalized_options,
    preflight_or_refuse,
    set_content,
    snapshot,
)
from apps.publishing.lifecycle import (
    CHANGEABLE_STATES,
    IN_FLIGHT_STATES,
    StaleTarget,
    crosspost_refresh_status,
    target_transition,
)
from apps.publishing.models import CrossPost, PublishTarget, TargetState
from apps.publishing.preflight import Finding

__all__ = [
    "ChangeRefused",
    "crosspost_cancel",
    "crosspost_reschedule",
    "crosspost_save_draft",
    "crosspost_schedule",
    "crosspost_update",
    "publish_now_time",
]


# --- Drafts -----------------------------------------------------------------------------------


def _existing_submission(client: Client, submission_key: UUID | None) -> CrossPost | None:
    if submission_key is None:
        return None
    return CrossPost.objects.filter(client=client, submission_key=submission_key).first()


def crosspost_save_draft(
    *,
    actor: Any,
    client: Client,
    content: PostContent,
    scheduled_at: datetime | None,
    post: CrossPost | None = None,
    submission_key: UUID | None = None,
) -> CrossPost:
    """Create or update a draft: its targets exist but are never due (due_at NULL).

    A second submission of the same page (same `submission_key`) updates the first one's draft
    instead of making another."""
    try:
        with transaction.atomic():
            return _save_draft(
                actor=actor,
                client=client,
                content=content,
                scheduled_at=scheduled_at,
                post=post,
                submission_key=submission_key,
            )
    except IntegrityError:
        existing = _existing_submission(client, submission_key)
        if existing is None:
            raise
        return existing


def _save_draft(
    *,
    actor: Any,
    client: Client,
    content: PostContent,
    scheduled_at: datetime | None,
    post: CrossPost | None,
    submission_key: UUID | None,
) -> CrossPost:
    repeated = False
    if post is None:
        check_can_create(client)
        # The same page sent twice: carry on with the draft the first submission made.
        post = _existing_submission(client, submission_key)
        repeated = post is not None
    if post is None:
        post = CrossPost(
            client=client,
            created_by=actor,
            status=CrossPost.Status.DRAFT,
            submission_key=submission_key,
        )
        before = None
    else:
        post = (
            CrossPost.objects.select_for_update(of=("self",))
            .select_related("client", "media")
            .get(pk=post.pk)
        )
        if not post.is_draft:
            if repeated:
                return post
            raise ChangeRefused("This post is no longer a draft; reload the page.")
        before = snapshot(post, live_targets(post))
    set_content(post, content)
    post.scheduled_at = scheduled_at
    post.save()
    chosen = {plan.account.pk: plan for plan in content.targets}
    # A draft's targets have never been handed out, so they are rewritten freely.
    post.targets.exclude(linked_account_id__in=chosen).delete()
    post.targets.exclude(state=TargetState.SCHEDULED).delete()
    existing_targets = {t.linked_account_id: t for t in post.targets.all()}
    for account_id, plan in chosen.items():
        options = normalized_options(plan)
        target = existing_targets.get(account_id)
        if target is None:
            PublishTarget.objects.create(
                crosspost=post,
                linked_account=plan.account,
                platform=plan.account.platform,
                options=options,
                state=TargetState.SCHEDULED,
                due_at=None,
            )
        elif target.options != options or target.due_at is not None:
            PublishTarget.objects.filter(pk=target.pk).update(options=options, due_at=None)
    after = snapshot(post, live_targets(post))
    changes = diff_snapshots(before, after) if before is not None else {"after": after}
    if changes:
        audit_record(
            action=AuditAction.POST_DRAFT_SAVED,
            actor=actor,
            client=client,
            target=post,
            target_label=f"Post {post.pk}",
            data=changes if before is not None else {"after": after},
        )
    return post


# --- Scheduling -------------------------------------------------------------------------------


def crosspost_schedule(
    *,
    actor: Any,
    client: Client,
    content: PostContent,
    scheduled_at: datetime,
    checks: Mapping[int, AccountCheck],
    post: CrossPost | None = None,
    submission_key: UUID | None = None,
) -> CrossPost:
    """Schedule a new post, or a draft (`post`): one target per account, state `scheduled`,
    due at `scheduled_at` (UTC), with its options and the findings, in one transaction with the
    audit event. Refused (PreflightRefused, ValidationError) when preflight finds an error or a
    rule is broken; a second identical submission returns the first post unchanged."""
    # Preflight first: its findings say the most; the rules below hold whatever it found.
    findings = preflight_or_refuse(content, checks)
    check_publishable(client, content, checks, scheduled_at=scheduled_at)
    try:
        with transaction.atomic():
            return _schedule(
                actor=actor,
                client=client,
                content=content,
                scheduled_at=scheduled_at,
                findings=findings,
                post=post,
                submission_key=submission_key,
            )
    except IntegrityError:
        existing = _existing_submission(client, submission_key)
        if existing is None:
            raise
        return existing
    except StaleTarget as stale:
        raise ChangeRefused(_stale_message(stale)) from None


def _schedule(
    *,
    actor: Any,
    client: Client,
    content: PostContent,
    scheduled_at: datetime,
    findings: list[Finding],
    post: CrossPost | None,
    submission_key: UUID | None,
) -> CrossPost:
    client = Client.objects.get(pk=client.pk)
    check_can_create(client)
    repeated = False
    if post is None:
        # The same page sent twice: the first submission's post is the answer (a draft it
        # saved is scheduled now).
        post = _existing_submission(client, submission_key)
        repeated = post is not None
    drafted: dict[int, PublishTarget] = {}
    if post is None:
        post = CrossPost(client=client, created_by=actor, submission_key=submission_key)
    else:
        post = (
            CrossPost.objects.select_for_update(of=("self",))
            .select_related("client", "media")
            .get(pk=post.pk)
        )
        if not post.is_draft:
            if repeated:
                return post
            raise ChangeRefused("This post was scheduled already; nothing was changed.")
        drafted = {t.linked_account_id: t for t in post.targets.all()}
    set_content(post, content)
    post.scheduled_at = scheduled_at
    post.status = CrossPost.Status.SCHEDULED
    post.save()
    chosen = {plan.account.pk for plan in content.targets}
    for account_id, target in drafted.items():
        if account_id not in chosen or target.state != TargetState.SCHEDULED:
            target.delete()  # never handed out: a draft's leftovers
    for plan in content.targets:
        values = {
            "options": normalized_options(plan),
            "findings": findings_for(plan.account.platform, findings),
            "due_at": scheduled_at,
        }
        drafted_target = drafted.get(plan.account.pk)
        if drafted_target is not None and drafted_target.state == TargetState.SCHEDULED:
            # Conditional: a draft target the account's revocation cancelled meanwhile is stale.
            if not PublishTarget.objects.filter(
                pk=drafted_target.pk, state=TargetState.SCHEDULED, due_at__isnull=True
            ).update(**values):
                raise StaleTarget(drafted_target, TargetState.SCHEDULED)
        else:
            PublishTarget.objects.create(
                crosspost=post,
                linked_account=plan.account,
                platform=plan.account.platform,
                state=TargetState.SCHEDULED,
                **values,
            )
    crosspost_refresh_status(post)
    audit_record(
        action=AuditAction.POST_SCHEDULED,
        actor=actor,
        client=client,
        target=post,
        target_label=f"Post {post.pk}",
        data={"after": snapshot(post, live_targets(post))},
    )
    return post


# --- Changes to a scheduled post --------------------------------------------------------------


def _stale_message(stale: StaleTarget) -> str:
    target = stale.target
    return (
        f"{account_label(target.linked_account)} changed state a moment ago "
        f"(the publisher picked it up), so nothing was changed. Reload the page to see where "
        f"the post is now."
    )


def _lock_changeable(
    post: CrossPost, *, verb: str
) -> tuple[CrossPost, list[PublishTarget], list[PublishTarget]]:
    """The post locked for the change, its pending targets and its finished ones (published,
    failed, unconfirmed). Refuses when publishing has started on any target (DESIGN §6: changes
    work until a target is `publishing`), or when nothing is left to change."""
    post = (
        CrossPost.objects.select_for_update(of=("self",))
        .select_related("client", "media")
        .get(pk=post.pk)
    )
    targets = live_targets(post)
    started = [t for t in targets if t.state in IN_FLIGHT_STATES]
    if started:
        names = ", ".join(account_label(t.linked_account) for t in started)
        raise ChangeRefused(
            f"Publishing has started on {names}, so this post can't be {verb} any more. "
            "Nothing was changed."
        )
    pending = [t for t in targets if t.state in CHANGEABLE_STATES]
    finished = [t for t in targets if t.state not in CHANGEABLE_STATES]
    if not pending and not post.is_draft:
        raise ChangeRefused(f"Nothing in this post is waiting to publish, so it can't be {verb}.")
    return post, pending, finished


def _move_due(target: PublishTarget, due_at: datetime, **fields: Any) -> None:
    """Give a pending target a new time, conditional on the state we read."""
    if target.state == TargetState.DISPATCHED:
        # Handed to a worker that hasn't started: take it back (the task's own conditional
        # move dispatched → publishing then finds nothing to do).
        target_transition(
            target=target,
            to=TargetState.SCHEDULED,
            reason="Rescheduled before publishing started",
            audited=False,  # crosspost_reschedule records the post's event with before/after
            due_at=due_at,
            **fields,
        )
        return
    values: dict[str, Any] = {"due_at": due_at, **fields}
    if target.state == TargetState.RETRY_WAIT:
        values["next_attempt_at"] = due_at
    if not PublishTarget.objects.filter(pk=target.pk, state=target.state).update(**values):
        raise StaleTarget(target, target.state)


def crosspost_reschedule(*, actor: Any, post: CrossPost, scheduled_at: datetime) -> CrossPost:
    """Move a scheduled post to another time: every pending target, or none."""
    try:
        with transaction.atomic():
            post, pending, _ = _lock_changeable(post, verb="rescheduled")
            if post.is_draft:
                raise ChangeRefused("A draft has no time yet: schedule it from its edit page.")
            before = post.scheduled_at
            if before == scheduled_at:
                return post
            for target in pending:
                _move_due(target, scheduled_at)
            post.scheduled_at = scheduled_at
            post.save(update_fields=["scheduled_at", "updated_at"])
            crosspost_refresh_status(post)
            tz = post.client.timezone
            audit_record(
                action=AuditAction.POST_RESCHEDULED,
                actor=actor,
                client=post.client,
                target=post,
                target_label=f"Post {post.pk}",
                data={
                    "scheduled_at": {
                        "before": before.isoformat() if before else None,
                        "after": scheduled_at.isoformat(),
                    },
                    "scheduled_local": {
                        "before": localtime.describe(before, tz) if before else None,
                        "after": localtime.describe(scheduled_at, tz),
                    },
                },
            )
            return post
    except StaleTarget as stale:
        raise ChangeRefused(_stale_message(stale)) from None


def crosspost_update(
    *,
    actor: Any,
    post: CrossPost,
    content: PostContent,
    scheduled_at: datetime,
    checks: Mapping[int, AccountCheck],
) -> CrossPost:
    """Edit a scheduled post: video, caption, accounts, options and time. Accounts taken off are
    cancelled, new ones get a scheduled target; refused whole when publishing has started or a
    target moved meanwhile, and when the edited post fails preflight."""
    findings = preflight_or_refuse(content, checks)
    check_publishable(post.client, content, checks, scheduled_at=scheduled_at)
    try:
        with transaction.atomic():
            return _update(
                actor=actor,
                post=post,
                content=content,
                scheduled_at=scheduled_at,
                findings=findings,
            )
    except StaleTarget as stale:
        raise ChangeRefused(_stale_message(stale)) from None


def _update(
    *,
    actor: Any,
    post: CrossPost,
    content: PostContent,
    scheduled_at: datetime,
    findings: list[Finding],
) -> CrossPost:
    post, pending, done = _lock_changeable(post, verb="edited")
    if post.is_draft:
        raise ChangeRefused("This post is a draft; schedule it instead.")
    if done:
        names = ", ".join(account_label(t.linked_account) for t in done)
        raise ChangeRefused(
            f"{names} already went through publishing, so this post can't be edited any more. "
            "Nothing was changed."
        )
    removed = post.targets.filter(state=TargetState.CANCELLED)
    by_account = {t.linked_account_id: t for t in [*removed, *pending]}
    before = snapshot(post, pending)
    time_before = post.scheduled_at
    set_content(post, content)
    post.scheduled_at = scheduled_at
    chosen = {plan.account.pk: plan for plan in content.targets}
    for target in pending:
        if target.linked_account_id not in chosen:
            target_transition(
                target=target,
                to=TargetState.CANCELLED,
                reason="Account taken off the post",
                audited=False,  # crosspost_update records the post's event with before/after
            )
    for account_id, plan in chosen.items():
        values = {
            "options": normalized_options(plan),
            "findings": findings_for(plan.account.platform, findings),
        }
        existing = by_account.get(account_id)
        if existing is None:
            PublishTarget.objects.create(
                crosspost=post,
                linked_account=plan.account,
                platform=plan.account.platform,
                state=TargetState.SCHEDULED,
                due_at=scheduled_at,
                **values,
            )
        elif existing.state == TargetState.CANCELLED:
            raise ChangeRefused(
                f"{account_label(plan.account)} was taken off this post earlier and can't be "
                "added back; make a new post for it. Nothing was changed."
            )
        elif time_before != scheduled_at:
            _move_due(existing, scheduled_at, **values)
        elif not PublishTarget.objects.filter(pk=existing.pk, state=existing.state).update(
            **values
        ):
            raise StaleTarget(existing, existing.state)
    post.save()
    crosspost_refresh_status(post)
    after = snapshot(post, live_targets(post))
    changes = diff_snapshots(before, after)
    content_changes = {k: v for k, v in changes.items() if not k.startswith("scheduled")}
    if content_changes:
        audit_record(
            action=AuditAction.POST_EDITED,
            actor=actor,
            client=post.client,
            target=post,
            target_label=f"Post {post.pk}",
            data={"changes": content_changes},
        )
    if time_before != scheduled_at:
        audit_record(
            action=AuditAction.POST_RESCHEDULED,
            actor=actor,
            client=post.client,
            target=post,
            target_label=f"Post {post.pk}",
            data={k: v for k, v in changes.items() if k.startswith("scheduled")},
        )
    return post


def crosspost_cancel(*, actor: Any, post: CrossPost, reason: str = "") -> CrossPost:
    """Cancel every pending target (a draft: all of them); refused whole when publishing has
    started on any target or one moved meanwhile. Targets already done stay as they are."""
    try:
        with transaction.atomic():
            post, pending, _ = _lock_changeable(post, verb="cancelled")
            before = {account_label(t.linked_account): t.state for t in pending}
            if post.is_draft:
                # A draft stops being one: its status is then derived from the cancelled targets.
                post.status = CrossPost.Status.CANCELLED
                post.save(update_fields=["status", "updated_at"])
            for target in pending:
                target_transition(
                    target=target,
                    to=TargetState.CANCELLED,
                    reason=reason or "Cancelled by staff",
                    audited=False,  # the post's cancellation event below lists every account
                )
            status = crosspost_refresh_status(post)
            audit_record(
                action=AuditAction.POST_CANCELLED,
                actor=actor,
                client=post.client,
                target=post,
                target_label=f"Post {post.pk}",
                data={
                    "targets": {"before": before, "after": dict.fromkeys(before, "cancelled")},
                    "status": str(status),
                },
            )
            return post
    except StaleTarget as stale:
        raise ChangeRefused(_stale_message(stale)) from None


def publish_now_time() -> datetime:
    """'Publish now' is a schedule for this second; the dispatcher starts it within seconds."""
    return timezone.now().replace(microsecond=0)
