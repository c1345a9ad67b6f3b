"""Media, cross-posts and their per-account targets (DESIGN §4, §6).

A `CrossPost` is one video with one caption, scheduled for a moment; it has one `PublishTarget`
per chosen linked account. Targets carry the state machine (apps/publishing/lifecycle.py); the
cross-post's status is derived from them.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.platforms.types import Platform


def media_upload_path(asset: MediaAsset, filename: str) -> str:
    # Never the uploader's name in the path: a content address per client.
    return f"media/{asset.client_id}/{asset.sha256[:2]}/{asset.sha256}"


def poster_upload_path(asset: MediaAsset, filename: str) -> str:
    return f"posters/{asset.client_id}/{asset.sha256[:2]}/{asset.sha256}.jpg"


class MediaAsset(models.Model):
    """One uploaded video of one client, stored once per content (SHA-256)."""

    class ProbeState(models.TextChoices):
        PENDING = "pending", "Being checked"
        OK = "ok", "Readable"
        UNREADABLE = "unreadable", "Unreadable"

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="media_assets"
    )
    file = models.FileField(upload_to=media_upload_path, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    probe_state = models.CharField(
        max_length=12, choices=ProbeState.choices, default=ProbeState.PENDING
    )
    # Why the probe could not read the file, in words a person understands.
    probe_error = models.CharField(max_length=300, blank=True)
    # The probe's findings (apps.publishing.probe.MediaProbe as a dict); empty until probed.
    probe = models.JSONField(default=dict, blank=True)
    probed_at = models.DateTimeField(null=True, blank=True)
    poster = models.FileField(upload_to=poster_upload_path, max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "sha256"], name="media_once_per_client")
        ]
        indexes = [models.Index(fields=["client", "-uploaded_at"], name="media_client_recent")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_pending(self) -> bool:
        return self.probe_state == self.ProbeState.PENDING

    @property
    def is_readable(self) -> bool:
        return self.probe_state == self.ProbeState.OK

    def probe_result(self) -> Any:
        """The stored probe as a MediaProbe, or None before it ran or when unreadable."""
        from apps.publishing.probe import MediaProbe

        if self.probe_state != self.ProbeState.OK or not self.probe:
            return None
        return MediaProbe.from_dict(self.probe)


class CrossPost(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHING = "publishing", "Publishing"
        PUBLISHED = "published", "Published"
        PARTIALLY_PUBLISHED = "partially_published", "Partially published"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="crossposts"
    )
    media = models.ForeignKey(
        MediaAsset, on_delete=models.PROTECT, null=True, blank=True, related_name="crossposts"
    )
    caption = models.TextField(blank=True)
    # {platform value: caption} where a platform gets its own text.
    caption_overrides = models.JSONField(default=dict, blank=True)
    # Stored in UTC; edited and shown in the client's timezone.
    scheduled_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # The composer page's one-time key: a second identical submission (a double click, a resent
    # form) finds the post the first one made instead of making another.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["client", "scheduled_at"], name="crosspost_client_when"),
            models.Index(fields=["status", "scheduled_at"], name="crosspost_status_when"),
        ]

    def __str__(self) -> str:
        return f"Post {self.pk} for {self.client_id}"

    def caption_for(self, platform: Platform | str) -> str:
        return self.caption_overrides.get(str(platform)) or self.caption

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class TargetState(models.TextChoices):
    """PublishTarget.state (DESIGN §6); moves are in apps/publishing/lifecycle.py."""

    SCHEDULED = "scheduled", "Scheduled"
    DISPATCHED = "dispatched", "Dispatched"
    PUBLISHING = "publishing", "Publishing"
    PROCESSING = "processing", "Processing"
    PUBLISHED = "published", "Published"
    RETRY_WAIT = "retry_wait", "Waiting to retry"
    FAILED = "failed", "Failed"
    UNCONFIRMED = "unconfirmed", "Unconfirmed"
    CANCELLED = "cancelled", "Cancelled"


class PublishTarget(models.Model):
    """One cross-post on one linked account."""

    crosspost = models.ForeignKey(CrossPost, on_delete=models.CASCADE, related_name="targets")
    linked_account = models.ForeignKey(
        "connections.LinkedAccount", on_delete=models.PROTECT, related_name="publish_targets"
    )
    platform = models.CharField(max_length=16, choices=Platform.choices)
    # Per-platform options: TikTok privacy_level, allow_comment/duet/stitch, disclosure toggles;
    # Instagram share_to_feed, cover_offset_ms (apps/publishing/options.py validates them).
    options = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=16, choices=TargetState.choices, default=TargetState.SCHEDULED
    )
    state_reason = models.CharField(max_length=300, blank=True)
    state_changed_at = models.DateTimeField(default=timezone.now)
    # When the dispatcher should pick the target up (the cross-post's time, in UTC).
    due_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Progress the publish task stored between platform calls (publish_id, container_id, …).
    checkpoint = models.JSONField(default=dict, blank=True)
    # The latest preflight findings (apps.publishing.preflight.Finding as dicts).
    findings = models.JSONField(default=list, blank=True)
    permalink = models.URLField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error_code = models.CharField(max_length=100, blank=True)
    last_error_message = models.CharField(max_length=500, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # When the dispatcher claimed the target (due_at → dispatched_at is the dispatch lag).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # A target in dispatched/publishing past this moment has lost its worker: the dispatcher
    # claims it again and reconciles (DESIGN §6 Leases).
    lease_until = models.DateTimeField(null=True, blank=True)
    # The problem state the account manager was emailed about (once per episode), or "".
    notified_state = models.CharField(max_length=16, blank=True)
    # The worker run that holds the lease (a random token): every checkpoint and state write of
    # a run is conditional on it, so a run that lost its lease stops instead of acting twice.
    lease_owner = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["crosspost", "linked_account"], name="target_once_per_account"
            )
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="target_state_due"),
            models.Index(fields=["linked_account", "state"], name="target_account_state"),
            models.Index(fields=["state", "lease_until"], name="target_state_lease"),
            # The dashboard's recent failures and the metrics' results of the last 24 h: one
            # state's rows in a window of time.
            models.Index(fields=["state", "state_changed_at"], name="target_state_changed"),
            # The metrics' due-post lag: the targets dispatched in the last hour.
            models.Index(fields=["dispatched_at"], name="target_dispatched"),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} target of post {self.crosspost_id}"

    @property
    def is_changeable(self) -> bool:
        from apps.publishing.lifecycle import CHANGEABLE_STATES

        return self.state in CHANGEABLE_STATES

    @property
    def is_final(self) -> bool:
        from apps.publishing.lifecycle import FINAL_STATES

        return self.state in FINAL_STATES

    @property
    def is_waiting_to_retry(self) -> bool:
        return self.state == TargetState.RETRY_WAIT

    @property
    def is_failed(self) -> bool:
        return self.state == TargetState.FAILED

    @property
    def is_unconfirmed(self) -> bool:
        """Nobody can tell whether the platform published it: a person must look (DESIGN §6)."""
        return self.state == TargetState.UNCONFIRMED


class PublishAttempt(models.Model):
    """One platform call of a target's publish (DESIGN §4, §6; STYLE rule 8): what was asked,
    what came back, how long it took. Never a token or a signed URL in `request_summary`."""

    class Outcome(models.TextChoices):
        OK = "ok", "Succeeded"
        TRANSIENT = "transient", "Failed, will retry"
        PERMANENT = "permanent", "Failed"
        UNKNOWN = "unknown", "Outcome unknown"

    # `target.calls`: PublishTarget.attempts is the count DESIGN §4 names.
    target = models.ForeignKey(PublishTarget, on_delete=models.CASCADE, related_name="calls")
    # The step of the platform's sequence: creator_info, init, upload_chunk, status,
    # quota, container, container_status, publish, permalink, video_list, …
    step = models.CharField(max_length=32)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    # The platform package's error category (auth, rate_limit, quota, transient, content,
    # permanent) when the call failed.
    category = models.CharField(max_length=16, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    message = models.CharField(max_length=500, blank=True)
    request_summary = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [
            models.Index(fields=["target", "started_at"], name="attempt_target_time"),
            # The metrics' call outcomes of the last 24 h, across targets.
            models.Index(fields=["started_at"], name="attempt_time"),
        ]

    def __str__(self) -> str:
        return f"{self.step} of target {self.target_id}: {self.outcome or 'in progress'}"


class DispatcherLease(models.Model):
    """Who runs the dispatcher loop right now (DESIGN §6 Dispatch): one row per loop name.

    The loop holds it while it runs and hands it to the loop it enqueues as its successor; the
    minute schedule starts a new loop only when the lease has run out (its holder died)."""

    name = models.CharField(max_length=32, primary_key=True)
    owner = models.CharField(max_length=32)
    until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.owner} until {self.until:%H:%M:%S}"
