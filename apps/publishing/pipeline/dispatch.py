"""Handing out due work on time, once (DESIGN §6 Dispatch, Leases).

`dispatch_due()` is one pass. It claims, in one transaction per kind and at most `limit` rows:

- scheduled targets whose time has come, and retry_wait targets whose wait is over
  (→ `dispatched`, audited);
- targets in dispatched/publishing/processing whose `lease_until` has passed — a worker that
  died, a task the broker lost, or a parked target's wake-up time (the state stays; the next run
  reconciles from the checkpoint).

Each claimed target gets a fresh hand-out token in `lease_owner` and one task
(`publish_target(id, token)`) on commit. On PostgreSQL the rows are picked with
`SELECT … FOR UPDATE SKIP LOCKED`, so several dispatchers never wait on or hand out the same
row; on SQLite (one writer at a time) every claim is a conditional UPDATE on what was read, which
a second dispatcher loses.

`dispatcher_loop()` runs passes every PUBLISH_DISPATCH_POLL_SECONDS for
PUBLISH_DISPATCH_LOOP_SECONDS, holding the `DispatcherLease`, then enqueues its successor and
keeps dispatching until the successor takes the lease (a successor may wait in the queue behind
publish tasks; dispatching must not pause meanwhile), for PUBLISH_DISPATCH_HANDOVER_SECONDS at
most. django-q2's scheduler wakes every 30 s and its shortest schedule is a minute, so the minute
schedule is only a watchdog: it starts a loop when none holds the lease. Each publish task also
looks (`dispatcher_kick`): when a loop's worker was killed, its lease runs out in LOOP_LEASE and
the next publish task to finish runs a pass itself and starts a new loop, without waiting for the
minute (or for the new loop's turn in a backed-up queue).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.common.jobs import enqueue
from apps.publishing.lifecycle import IN_FLIGHT_STATES, StaleTarget, target_transition
from apps.publishing.models import DispatcherLease, PublishTarget, TargetState
from apps.publishing.pipeline.run import lease_until, new_owner

logger = logging.getLogger(__name__)

PUBLISH_TASK = "apps.publishing.tasks.publish_target"
LOOP_TASK = "apps.publishing.tasks.dispatch_loop"
LOOP_NAME = "dispatcher"
# The loop's lease outlives one pass by this much (each pass renews it); a loop that died
# leaves it to run out, and the next publish task or the minute schedule starts a new loop.
LOOP_LEASE = timedelta(seconds=10)

sleep = time.sleep  # patched in tests


def dispatch_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """One pass; returns how many targets were handed out."""
    now = now or timezone.now()
    due = PublishTarget.objects.filter(state=TargetState.SCHEDULED, due_at__lte=now)
    waited = PublishTarget.objects.filter(state=TargetState.RETRY_WAIT, next_attempt_at__lte=now)
    lapsed = PublishTarget.objects.filter(
        state__in=[TargetState.DISPATCHED, *IN_FLIGHT_STATES], lease_until__lte=now
    )
    return (
        _claim(due.order_by("due_at"), limit, _dispatch, now)
        + _claim(waited.order_by("next_attempt_at"), limit, _dispatch, now)
        + _claim(lapsed.order_by("lease_until"), limit, _retake, now)
    )


def _claim(
    rows: QuerySet[PublishTarget],
    limit: int,
    hand_out: Callable[[PublishTarget, str, datetime], bool],
    now: datetime,
) -> int:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        targets = list(rows.select_related("crosspost__client")[:limit])
        handed = 0
        for target in targets:
            token = new_owner()
            if hand_out(target, token, now):
                enqueue(PUBLISH_TASK, target.pk, token)
                handed += 1
        return handed


def _dispatch(target: PublishTarget, token: str, now: datetime) -> bool:
    try:
        target_transition(
            target=target,
            to=TargetState.DISPATCHED,
            reason="Due: handed to a worker.",
            dispatched_at=target.dispatched_at or now,  # a retry keeps the first hand-out
            lease_owner=token,
            lease_until=lease_until(now),
            next_attempt_at=None,
        )
    except StaleTarget:
        return False  # another dispatcher (or a person) moved it first
    return True


def _retake(target: PublishTarget, token: str, now: datetime) -> bool:
    """A lapsed lease: the next run takes over and reconciles (the state does not move)."""
    updated = PublishTarget.objects.filter(
        pk=target.pk,
        state=target.state,
        lease_owner=target.lease_owner,
        lease_until=target.lease_until,
    ).update(lease_owner=token, lease_until=lease_until(now))
    if updated and target.lease_owner:
        logger.warning(
            "target %s: lease of run %s lapsed; reconciling", target.pk, target.lease_owner
        )
    return bool(updated)


# --- The loop ---------------------------------------------------------------------------------


def _acquire(me: str, handoff: str, now: datetime) -> bool:
    """Take the loop's lease: it is free, run out, or handed to us by our predecessor."""
    until = now + LOOP_LEASE
    taken = (
        DispatcherLease.objects.filter(name=LOOP_NAME)
        .filter(_free(now, handoff))
        .update(owner=me, until=until)
    )
    if taken:
        return True
    try:
        with transaction.atomic():
            DispatcherLease.objects.create(name=LOOP_NAME, owner=me, until=until)
    except IntegrityError:
        return False
    return True


def _free(now: datetime, handoff: str) -> Q:
    free = Q(until__lte=now)
    if handoff:
        free |= Q(owner=handoff)
    return free


def _renew(me: str, until: datetime, *, owner: str | None = None) -> bool:
    return bool(
        DispatcherLease.objects.filter(name=LOOP_NAME, owner=me).update(
            owner=owner or me, until=until
        )
    )


def dispatcher_loop(*, handoff: str = "") -> str:
    """Dispatch for PUBLISH_DISPATCH_LOOP_SECONDS, then hand over to a successor."""
    me = new_owner()
    if not _acquire(me, handoff, timezone.now()):
        return "another loop holds the lease"
    started = time.monotonic()
    end = started + settings.PUBLISH_DISPATCH_LOOP_SECONDS
    last = end + settings.PUBLISH_DISPATCH_HANDOVER_SECONDS
    passes = handed = 0
    successor_asked = False
    while True:
        try:
            handed += dispatch_due()
        except Exception:  # one bad pass must not stop dispatching for the minute
            logger.exception("dispatch pass failed")
        passes += 1
        if not _renew(me, timezone.now() + LOOP_LEASE):
            if successor_asked:
                return f"{passes} passes, {handed} handed out; the successor took over"
            return f"lease lost after {passes} passes ({handed} handed out)"
        now = time.monotonic()
        if now >= end and not successor_asked:
            # The successor may take the lease from us (its handoff is our token); until it
            # does, we go on.
            enqueue(LOOP_TASK, me)
            successor_asked = True
        if now >= last:
            break
        sleep(settings.PUBLISH_DISPATCH_POLL_SECONDS)
    return f"{passes} passes, {handed} handed out"


def dispatcher_kick(*, now: datetime | None = None) -> bool:
    """When the lease has run out (its loop's worker died), run one dispatch pass here and start
    a new loop. Returns whether it did. The lease is taken for the new loop's token first, so of
    several tasks asking at once only one does it. The pass matters when the queue is backed up:
    the new loop waits behind the publish tasks already queued, and due posts must not."""
    now = now or timezone.now()
    lapsed = DispatcherLease.objects.filter(name=LOOP_NAME, until__lte=now)
    if not lapsed.exists():  # the usual answer, without a write
        return False
    token = new_owner()
    if not lapsed.update(owner=token, until=now + LOOP_LEASE):
        return False
    logger.warning("dispatcher lease had run out; dispatching once and starting a new loop")
    try:
        dispatch_due()
    finally:
        enqueue(LOOP_TASK, token)
    return True
