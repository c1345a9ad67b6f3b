"""Writes of the audit log: `audit_record()`, the one way an event is written (DESIGN §7), and
the browser's chain verification runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import F, Model
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.models import GENESIS_HASH, AuditEvent, ChainVerification
from apps.audit.selectors import audit_chain_walk
from apps.common.http import REDACTED, SECRET_NAMES
from apps.common.jobs import enqueue
from apps.common.logging import RequestMeta, request_meta_var

if TYPE_CHECKING:
    from apps.staff.models import User

# Serializes chain appends on PostgreSQL for the rest of the caller's transaction.
_CHAIN_LOCK_KEY = 0x5357_4244  # "SWBD"


def mask_secrets(value: Any) -> Any:
    """Replace the values of secret-looking keys, recursively."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if _is_secret_key(str(k)) else mask_secrets(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_secrets(v) for v in value]
    return value


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in SECRET_NAMES or "token" in lowered or "secret" in lowered


def _label_for(obj: Model | None) -> str:
    if obj is None:
        return ""
    label = getattr(obj, "label", None)
    return str(label if isinstance(label, str) else obj)[:255]


def audit_record(
    *,
    action: AuditAction | str,
    actor: Any = None,
    actor_label: str | None = None,
    client: Any = None,
    target: Model | None = None,
    target_label: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction.

    `actor` is a User or None; `actor_label` names a non-human actor ("system",
    "webhook:tiktok", "connect-link"). Labels are snapshots so the log stays readable after
    renames and deletions. Secrets in `data` are masked.
    """
    action = AuditAction(action)
    meta = request_meta_var.get() or RequestMeta()
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            actor=actor,
            actor_label=(actor_label or (actor.label if actor else "system"))[:255],
            action=action.value,
            client=client,
            client_label=_label_for(client),
            target_type=(target._meta.label_lower if target is not None else "")[:64],
            target_id=str(target.pk) if target is not None else "",
            target_label=(target_label if target_label is not None else _label_for(target))[:255],
            data=mask_secrets(data or {}),
            ip=meta.ip,
            user_agent=meta.user_agent,
            request_id=meta.request_id,
            prev_hash=last or GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
    return event


# --- Chain verification from the browser -------------------------------------------------------

VERIFY_TASK = "apps.audit.tasks.verify_chain_step"
# Events one step verifies (a few seconds of work), far below the queue's task timeout.
STEP_EVENTS = 100_000
# A run whose last step is older than this has lost its worker; another may be started.
STALLED_AFTER = timedelta(minutes=5)


def chain_verification_is_stalled(run: ChainVerification, *, now: datetime | None = None) -> bool:
    return run.is_running and (now or timezone.now()) - run.updated_at > STALLED_AFTER


def chain_verification_start(*, actor: User) -> ChainVerification:
    """Start verifying the chain in the background, or hand back the run already going."""
    running = ChainVerification.objects.filter(status=ChainVerification.Status.RUNNING).first()
    if running is not None and not chain_verification_is_stalled(running):
        return running
    with transaction.atomic():
        upto = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        run = ChainVerification.objects.create(started_by=actor, upto_id=upto)
        enqueue(VERIFY_TASK, run.pk)
    return run


def chain_verification_step(*, verification_id: int, max_events: int | None = None) -> None:
    """Verify the next stretch of the chain from the run's cursor, store the progress, and queue
    the next step — or record the verdict. A step delivered twice moves the cursor once (the
    progress is written only where the cursor is still where this step started)."""
    run = ChainVerification.objects.filter(
        pk=verification_id, status=ChainVerification.Status.RUNNING
    ).first()
    if run is None:
        return
    result = audit_chain_walk(
        after_id=run.cursor_id,
        expected_prev=run.cursor_hash,
        upto_id=run.upto_id,
        max_events=max_events or STEP_EVENTS,
    )
    now = timezone.now()
    changes: dict[str, Any] = {
        "cursor_id": result.last_id,
        "cursor_hash": result.last_hash,
        "checked": F("checked") + result.checked,
        "steps": F("steps") + 1,
        "updated_at": now,
    }
    if not result.ok:
        changes |= {
            "status": ChainVerification.Status.BROKEN,
            "broken_id": result.broken_id,
            "reason": result.reason,
            "finished_at": now,
        }
    elif result.finished:
        changes |= {"status": ChainVerification.Status.OK, "finished_at": now}
    with transaction.atomic():
        moved = ChainVerification.objects.filter(
            pk=run.pk, status=ChainVerification.Status.RUNNING, cursor_id=run.cursor_id
        ).update(**changes)
        if not moved:
            return
        if "status" not in changes:
            enqueue(VERIFY_TASK, run.pk)
            return
        run.refresh_from_db()
        audit_record(
            action=AuditAction.AUDIT_CHAIN_VERIFIED,
            actor=run.started_by,
            actor_label=None if run.started_by else "system",
            data={
                "result": run.status,
                "checked": run.checked,
                "upto_id": run.upto_id,
                **({"broken_id": run.broken_id, "reason": run.reason} if run.broken_id else {}),
            },
        )


# --- Export ----------------------------------------------------------------------------------


def audit_export_record(
    *, actor: User, params: dict[str, str], client: Any = None, filename: str
) -> AuditEvent:
    """An export is itself audited (DESIGN §1 counts it among the sensitive actions)."""
    return audit_record(
        action=AuditAction.AUDIT_EXPORTED,
        actor=actor,
        client=client,
        target_label=filename,
        data={"filter": params},
    )
