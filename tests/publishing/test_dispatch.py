"""The dispatcher: what it hands out, once, and the one loop that runs it (DESIGN §6)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection, connections
from django.test import TestCase
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.platforms.tiktok.webhooks import TikTokWebhook
from apps.publishing.models import DispatcherLease, PublishTarget, TargetState
from apps.publishing.pipeline import dispatch
from apps.publishing.pipeline.dispatch import dispatch_due, dispatcher_loop
from apps.publishing.pipeline.events import tiktok_publish_event
from apps.publishing.pipeline.run import LeaseLost, Run
from tests.connections.helpers import captured_tasks
from tests.factories import CrossPostFactory, PublishTargetFactory

pytestmark = pytest.mark.django_db


@contextmanager
def tasks_queued() -> Iterator[list]:
    """The tasks enqueued inside the block, their on-commit hooks run as if it committed."""
    with captured_tasks() as calls, TestCase.captureOnCommitCallbacks(execute=True):
        yield calls


def due_target(minutes: float = -1, **fields) -> PublishTarget:
    post = CrossPostFactory(scheduled_at=timezone.now() + timedelta(minutes=minutes))
    return PublishTargetFactory(crosspost=post, **fields)


def publish_tasks(calls) -> list[tuple]:
    return [args for func, args in calls if func == dispatch.PUBLISH_TASK]


def test_it_hands_out_due_targets_once_each_with_a_token():
    due, later = due_target(-1), due_target(+5)
    with tasks_queued() as calls:
        assert dispatch_due() == 1
        assert dispatch_due() == 0  # handed out already
    due.refresh_from_db()
    assert due.state == TargetState.DISPATCHED
    assert publish_tasks(calls) == [(due.pk, due.lease_owner)]
    assert due.dispatched_at is not None and due.lease_until > timezone.now()
    assert PublishTarget.objects.get(pk=later.pk).state == TargetState.SCHEDULED
    event = AuditEvent.objects.filter(action="post.target_state").latest("pk")
    assert (event.data["from"], event.data["to"]) == ("scheduled", "dispatched")


def test_a_retry_is_handed_out_when_its_wait_is_over():
    waiting = due_target(-60, state=TargetState.RETRY_WAIT)
    waiting.next_attempt_at = timezone.now() + timedelta(minutes=2)
    waiting.save()
    with tasks_queued() as calls:
        assert dispatch_due() == 0
        assert dispatch_due(now=timezone.now() + timedelta(minutes=3)) == 1
    assert len(publish_tasks(calls)) == 1
    assert PublishTarget.objects.get(pk=waiting.pk).state == TargetState.DISPATCHED


def test_a_lapsed_lease_is_taken_over_and_the_old_run_can_write_nothing():
    target = due_target(-10, state=TargetState.PUBLISHING)
    PublishTarget.objects.filter(pk=target.pk).update(
        lease_owner="dead-run", lease_until=timezone.now() - timedelta(seconds=1)
    )
    target.refresh_from_db()
    stale = Run(target=target, account=target.linked_account, owner="dead-run")
    with tasks_queued() as calls:
        assert dispatch_due() == 1
    target.refresh_from_db()
    assert target.state == TargetState.PUBLISHING  # the next run reconciles; no state move
    assert target.lease_owner not in ("", "dead-run")
    assert publish_tasks(calls) == [(target.pk, target.lease_owner)]
    with pytest.raises(LeaseLost):
        stale.save(publish_id="from-the-dead")
    assert "publish_id" not in PublishTarget.objects.get(pk=target.pk).checkpoint


def test_a_parked_target_wakes_when_its_time_comes():
    target = due_target(-10, state=TargetState.PROCESSING)
    wake = timezone.now() + timedelta(seconds=30)
    PublishTarget.objects.filter(pk=target.pk).update(lease_owner="", lease_until=wake)
    with tasks_queued():
        assert dispatch_due() == 0
        assert dispatch_due(now=wake) == 1


def test_a_task_whose_token_was_replaced_does_nothing():
    from apps.publishing.pipeline.publish import target_publish

    target = due_target(-1)
    with tasks_queued():
        dispatch_due()
    target.refresh_from_db()
    assert "not handed out" in target_publish(target_id=target.pk, token="an-old-token")
    assert PublishTarget.objects.get(pk=target.pk).state == TargetState.DISPATCHED


# --- The loop ---------------------------------------------------------------------------------


@pytest.fixture
def one_pass(settings):
    settings.PUBLISH_DISPATCH_LOOP_SECONDS = 0
    settings.PUBLISH_DISPATCH_HANDOVER_SECONDS = 0
    with mock.patch.object(dispatch, "sleep"):
        yield


def test_one_loop_runs_at_a_time_and_hands_over_to_its_successor(one_pass):
    due_target(-1)
    with tasks_queued() as calls:
        assert dispatcher_loop() == "1 passes, 1 handed out"
    successor = [args for func, args in calls if func == dispatch.LOOP_TASK]
    assert len(successor) == 1
    lease = DispatcherLease.objects.get()
    assert lease.owner == successor[0][0] and lease.until > timezone.now()
    # The minute schedule's watchdog finds the lease held and leaves.
    with tasks_queued():
        assert dispatcher_loop() == "another loop holds the lease"
        # The successor takes it with its token.
        assert dispatcher_loop(handoff=successor[0][0]).startswith("1 passes")


def test_a_lease_whose_holder_died_is_taken_by_the_next_loop(one_pass):
    DispatcherLease.objects.create(
        name=dispatch.LOOP_NAME, owner="gone", until=timezone.now() - timedelta(seconds=1)
    )
    with tasks_queued():
        assert dispatcher_loop().startswith("1 passes")


def test_a_failing_pass_does_not_stop_the_loop(one_pass, settings):
    settings.PUBLISH_DISPATCH_LOOP_SECONDS = 0.05
    with (
        tasks_queued(),
        mock.patch.object(dispatch, "dispatch_due", side_effect=[RuntimeError("db"), 0, 0, 0]),
        mock.patch.object(dispatch.time, "monotonic", side_effect=[0, 0, 0.1]),
    ):
        assert dispatcher_loop() == "2 passes, 0 handed out"


def test_a_loop_goes_on_dispatching_until_its_successor_takes_over(one_pass, settings):
    """A successor can wait in the queue behind publish tasks: dispatching doesn't pause."""
    settings.PUBLISH_DISPATCH_HANDOVER_SECONDS = 60
    passes = []

    def a_pass() -> int:
        passes.append(1)
        if len(passes) == 3:
            # The successor starts now, with the token its predecessor gave it.
            lease = DispatcherLease.objects.get()
            assert dispatch._acquire("successor", lease.owner, timezone.now())
        return 0

    with tasks_queued() as calls, mock.patch.object(dispatch, "dispatch_due", a_pass):
        result = dispatcher_loop()
    assert result == "3 passes, 0 handed out; the successor took over"
    asked = [args for func, args in calls if func == dispatch.LOOP_TASK]
    assert len(asked) == 1  # asked once, then went on
    assert DispatcherLease.objects.get().owner == "successor"


def test_a_loop_ends_when_its_handover_time_is_up(one_pass, settings):
    settings.PUBLISH_DISPATCH_HANDOVER_SECONDS = 5
    with (
        tasks_queued() as calls,
        mock.patch.object(dispatch, "dispatch_due", return_value=0),
        mock.patch.object(dispatch.time, "monotonic", side_effect=[0, 1, 3, 6]),
    ):
        assert dispatcher_loop() == "3 passes, 0 handed out"
    (successor,) = [args for func, args in calls if func == dispatch.LOOP_TASK]
    # The lease waits for that successor (or runs out).
    lease = DispatcherLease.objects.get()
    assert lease.owner == successor[0] and lease.until > timezone.now()


def test_a_publish_task_starts_a_loop_when_the_lease_ran_out(one_pass):
    from apps.publishing import tasks

    DispatcherLease.objects.create(
        name=dispatch.LOOP_NAME, owner="killed", until=timezone.now() - timedelta(seconds=1)
    )
    due = due_target(-1)
    with tasks_queued() as calls:
        tasks.publish_target(12345, "no-such-token")
        tasks.publish_target(12346, "no-such-token")  # one loop, not one per task
    started = [args for func, args in calls if func == dispatch.LOOP_TASK]
    assert len(started) == 1
    # The task dispatched once itself: the new loop may wait behind queued publish tasks.
    assert PublishTarget.objects.get(pk=due.pk).state == TargetState.DISPATCHED
    assert [args[0] for args in publish_tasks(calls)] == [due.pk]
    lease = DispatcherLease.objects.get()
    assert lease.owner == started[0][0] and lease.until > timezone.now()
    # That loop starts with the lease it was given.
    with tasks_queued():
        assert dispatcher_loop(handoff=started[0][0]) == "1 passes, 0 handed out"


def test_a_held_lease_or_none_at_all_starts_nothing():
    with tasks_queued() as calls:
        assert dispatch.dispatcher_kick() is False  # no loop ever ran: the schedule's job
        DispatcherLease.objects.create(
            name=dispatch.LOOP_NAME, owner="alive", until=timezone.now() + timedelta(seconds=5)
        )
        assert dispatch.dispatcher_kick() is False
    assert calls == []
    assert DispatcherLease.objects.get().owner == "alive"


def test_a_loop_longer_than_the_task_timeout_is_warned_about(settings):
    from apps.publishing.checks import dispatcher_fits_the_task_timeout

    assert dispatcher_fits_the_task_timeout() == []
    settings.PUBLISH_DISPATCH_HANDOVER_SECONDS = 200
    (warning,) = dispatcher_fits_the_task_timeout()
    assert warning.id == "publishing.W001"


# --- Racing dispatchers (PostgreSQL: SKIP LOCKED) ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_four_sessions_racing_hand_out_each_of_200_targets_once():
    if connection.vendor != "postgresql":
        pytest.skip("sessions racing need PostgreSQL (the SQLite test database is in memory)")
    post = CrossPostFactory(scheduled_at=timezone.now() - timedelta(seconds=5))
    for _ in range(200):
        PublishTargetFactory(crosspost=post)
    start = threading.Barrier(4)

    def dispatcher() -> None:
        try:
            start.wait()
            while dispatch_due(limit=25):
                pass
        finally:
            connections.close_all()

    with captured_tasks() as calls:  # one patch for every thread (list.append is atomic)
        threads = [threading.Thread(target=dispatcher) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    handed = Counter(args[0] for args in publish_tasks(calls))
    assert len(handed) == 200
    assert set(handed.values()) == {1}
    assert not PublishTarget.objects.exclude(state=TargetState.DISPATCHED).exists()


# --- TikTok's post.publish.* webhooks ----------------------------------------------------------


def event(name: str, publish_id: str, **fields) -> TikTokWebhook:
    return TikTokWebhook(
        event=name, client_key="ck", create_time=0, user_openid="", publish_id=publish_id, **fields
    )


def test_a_completion_webhook_publishes_and_a_repeat_or_late_poll_changes_nothing():
    target = due_target(-5, state=TargetState.PROCESSING, checkpoint={"publish_id": "p-1"})
    PublishTarget.objects.filter(pk=target.pk).update(lease_owner="polling-run")
    target.refresh_from_db()
    poller = Run(target=target, account=target.linked_account, owner="polling-run")

    assert tiktok_publish_event(account=None, event=event("post.publish.complete", "p-1")) == (
        "target published"
    )
    assert "nothing to do" in tiktok_publish_event(
        account=None, event=event("post.publish.complete", "p-1")
    )
    with pytest.raises(LeaseLost):  # the poll that was under way loses
        poller.save(polls=3)
    target.refresh_from_db()
    assert target.state == TargetState.PUBLISHED and target.calls.get().step == "webhook"


def test_a_public_webhook_stores_the_post_id_and_link():
    target = due_target(-5, state=TargetState.PUBLISHED, checkpoint={"publish_id": "p-2"})
    result = tiktok_publish_event(
        account=None,
        event=event("post.publish.publicly_available", "p-2", post_id="7300000000000000001"),
    )
    assert result == "post id stored"
    target.refresh_from_db()
    assert target.checkpoint["post_id"] == "7300000000000000001"
    assert target.permalink.endswith("/video/7300000000000000001")


def test_a_failure_webhook_fails_an_unsettled_target_with_the_reason():
    target = due_target(-5, state=TargetState.PROCESSING, checkpoint={"publish_id": "p-3"})
    result = tiktok_publish_event(
        account=None, event=event("post.publish.failed", "p-3", reason="duration_check_failed")
    )
    assert result == "target failed"
    target.refresh_from_db()
    assert target.state == TargetState.FAILED
    assert target.last_error_code == "duration_check_failed"


def test_an_unknown_publish_id_is_noted_not_guessed():
    due_target(-5, state=TargetState.PROCESSING, checkpoint={"publish_id": "p-4"})
    assert "no target has publish_id" in tiktok_publish_event(
        account=None, event=event("post.publish.complete", "p-unknown")
    )
