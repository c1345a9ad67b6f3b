"""TikTok's `post.publish.*` webhooks (PLATFORMS §1.9), received through connections' typed hook.

Whichever news comes first wins: a webhook moves a target that status polling has not settled
yet, and a later poll (or a repeated delivery) finds it settled and does nothing. Each move is a
conditional state change, so a run polling at the same moment loses its lease and stops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from apps.platforms.tiktok import webhooks as tiktok_webhooks
from apps.platforms.tiktok.errors import error_for_code
from apps.platforms.tiktok.links import video_url
from apps.platforms.types import Platform
from apps.publishing.lifecycle import StaleTarget, crosspost_refresh_status, target_transition
from apps.publishing.models import PublishTarget, TargetState
from apps.publishing.pipeline.run import note_call

if TYPE_CHECKING:
    from apps.connections.models import LinkedAccount
    from apps.platforms.tiktok.webhooks import TikTokWebhook

SETTLEABLE = (TargetState.PUBLISHING, TargetState.PROCESSING)


def tiktok_publish_event(*, account: LinkedAccount | None, event: TikTokWebhook) -> str:
    if not event.event.startswith("post.publish."):
        return "not a posting event"
    if not event.publish_id:
        return "no publish_id in the event"
    if "\x00" in event.publish_id:
        # No stored publish_id holds a NUL (PostgreSQL's jsonb refuses one), so nothing matches;
        # asking PostgreSQL would fail the whole delivery instead.
        return "publish_id holds a NUL character; no target matches"
    rows = PublishTarget.objects.filter(
        platform=Platform.TIKTOK, checkpoint__publish_id=event.publish_id
    ).select_related("crosspost__client", "linked_account")
    if account is not None:
        rows = rows.filter(linked_account=account)
    target = rows.first()
    if target is None:
        return f"no target has publish_id {event.publish_id}"
    handle = target.linked_account.handle
    try:
        if event.event == tiktok_webhooks.POST_PUBLISH_COMPLETE:
            return _published(target, "The post is complete.")
        if event.event == tiktok_webhooks.POST_PUBLISH_PUBLICLY_AVAILABLE:
            link = video_url(handle, event.post_id) if handle and event.post_id else ""
            checkpoint = {**target.checkpoint, "post_id": event.post_id}
            if target.state in SETTLEABLE:
                return _published(
                    target, "The post is public.", permalink=link, checkpoint=checkpoint
                )
            if target.state == TargetState.PUBLISHED and event.post_id:
                PublishTarget.objects.filter(pk=target.pk).update(
                    checkpoint=checkpoint, permalink=link or target.permalink
                )
                note_call(target, "webhook", message="The post is public.")
                return "post id stored"
            return f"target is {target.state}; nothing to do"
        if event.event == tiktok_webhooks.POST_PUBLISH_FAILED:
            if target.state not in SETTLEABLE:
                return f"target is {target.state}; nothing to do"
            error = error_for_code(event.fail_reason or "internal")
            note_call(target, "webhook", message=error.message, ok=False)
            target_transition(
                target=target,
                to=TargetState.FAILED,
                reason=error.message,
                lease_owner="",
                lease_until=None,
                next_attempt_at=None,
                last_error_code=(event.fail_reason or "failed")[:100],
                last_error_message=error.message[:500],
            )
            crosspost_refresh_status(target.crosspost)
            return "target failed"
    except StaleTarget:
        return "the target moved meanwhile; nothing to do"
    return "noted"


def _published(
    target: PublishTarget, note: str, *, permalink: str = "", checkpoint: dict | None = None
) -> str:
    if target.state not in SETTLEABLE:
        return f"target is {target.state}; nothing to do"
    note_call(target, "webhook", message=note)
    target_transition(
        target=target,
        to=TargetState.PUBLISHED,
        reason=note,
        published_at=timezone.now(),
        permalink=permalink or target.permalink,
        checkpoint=checkpoint if checkpoint is not None else target.checkpoint,
        lease_owner="",
        lease_until=None,
        next_attempt_at=None,
    )
    crosspost_refresh_status(target.crosspost)
    return "target published"
