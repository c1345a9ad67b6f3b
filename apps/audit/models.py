from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.audit.actions import AuditAction

GENESIS_HASH = "0" * 64


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Audit events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only.")


class AuditEvent(models.Model):
    """One immutable entry of the audit log, chained to the previous one by `prev_hash`."""

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # (actor, -id) below serves it
        related_name="+",
    )
    actor_label = models.CharField(max_length=255)
    # Validated against AuditAction by audit_record(); no `choices` here so that adding a code
    # never needs a migration of this (large) table.
    action = models.CharField(max_length=64, db_index=True)
    client = models.ForeignKey(
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # (client, -id) below serves it
        related_name="+",
    )
    client_label = models.CharField(max_length=255, blank=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        # A client, an account or a person: walked newest first along (column, id), one page
        # read. Action codes and labels (free text, system actors) are found by bitmap scans of
        # plain indexes, which PostgreSQL deduplicates (a few MB each, not a copy of every id);
        # apps/audit/selectors.py decides which way each filter goes.
        indexes = [
            models.Index(fields=["client", "-id"]),
            models.Index(fields=["actor", "-id"]),
            models.Index(fields=["target_type", "target_id", "-id"], name="audit_target_id_idx"),
            models.Index(fields=["actor_label"], name="audit_actor_label_idx"),
            models.Index(fields=["client_label"], name="audit_client_label_idx"),
            models.Index(fields=["target_label"], name="audit_target_label_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only.")

    def content(self) -> dict[str, Any]:
        """What the hash covers: every field but the hash itself."""
        return {
            "occurred_at": self.occurred_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "client_id": self.client_id,
            "client_label": self.client_label,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "target_label": self.target_label,
            "data": self.data,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "request_id": self.request_id,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        payload = json.dumps(self.content(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    @property
    def action_label(self) -> str:
        try:
            return AuditAction(self.action).label
        except ValueError:
            return self.action


class AuditLabel(models.Model):
    """Every distinct label an event carries (actor, client or target), once.

    Free text search looks here first: a few thousand distinct labels rather than millions of
    events, so even a term made of very common letters is cheap. The events whose labels
    matched are then found through the label indexes above. The database fills this table by
    itself (a trigger on each new event, migration 0006), so every way of appending events —
    audit_record, a bulk load — keeps it complete; nothing in code writes it.
    """

    text = models.CharField(max_length=255, primary_key=True)

    def __str__(self) -> str:
        return self.text


class ChainVerification(models.Model):
    """One run of the chain verification started from the browser, and its progress.

    The run goes in steps (one background task each, a bounded time apiece), each continuing from
    the stored cursor, so no single task outlives the queue's timeout and a page can show how far
    it got. Events appended after the run started (beyond `upto_id`) are left to the next run.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "Chain intact"
        BROKEN = "broken", "Broken link found"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The last event when the run started: the run verifies ids up to it.
    upto_id = models.BigIntegerField(default=0)
    # The last event verified so far and its hash (the next one must point at it).
    cursor_id = models.BigIntegerField(default=0)
    cursor_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    checked = models.BigIntegerField(default=0)
    steps = models.PositiveIntegerField(default=0)
    broken_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Chain verification {self.pk}: {self.status}"

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING

    @property
    def percent(self) -> int:
        if not self.upto_id:
            return 100
        return min(100, int(self.cursor_id * 100 / self.upto_id))
