"""A due post goes out on both platforms through the sandbox, once, with its links stored."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from apps.publishing.models import PublishAttempt, TargetState
from tests.connections.helpers import connect
from tests.delivery.pipeline import schedule, target_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_due_post_is_published_once_on_both_platforms(
    quick_sandbox, oauth, worker, manager, client_obj
):
    tiktok = connect(oauth, manager, client_obj, "tiktok")
    instagram = connect(oauth, manager, client_obj, "instagram")
    post = schedule(manager, client_obj, [tiktok, instagram])

    worker.drive()

    post.refresh_from_db()
    assert post.status == "published"
    tt, ig = target_of(post, "tiktok"), target_of(post, "instagram")
    assert (tt.state, ig.state) == (TargetState.PUBLISHED, TargetState.PUBLISHED)
    assert "/video/" in tt.permalink and tt.checkpoint["post_id"]
    assert ig.permalink and ig.checkpoint["media_id"]
    assert len(quick_sandbox.ledger(platform="tiktok")) == 1
    assert len(quick_sandbox.ledger(platform="instagram")) == 1
    steps = list(tt.calls.values_list("step", flat=True))
    assert steps[:3] == ["creator_info", "init", "upload"] and "status" in steps
    assert list(ig.calls.values_list("step", flat=True))[:2] == ["quota", "container"]
    assert not tt.calls.exclude(outcome=PublishAttempt.Outcome.OK).exists()
    moves = AuditEvent.objects.filter(action="post.target_state", target_id=str(tt.pk))
    assert [e.data["to"] for e in moves.order_by("pk")] == [
        "dispatched",
        "publishing",
        "processing",
        "published",
    ]
    assert tt.dispatched_at is not None and tt.lease_owner == ""


def test_a_repeated_task_delivery_runs_once(quick_sandbox, oauth, worker, manager, client_obj):
    tiktok = connect(oauth, manager, client_obj, "tiktok")
    schedule(manager, client_obj, [tiktok])
    from apps.publishing.pipeline.dispatch import dispatch_due

    assert dispatch_due() == 1
    worker.queue.append(worker.queue[0])  # the broker delivers the same task twice
    worker.drive()
    assert len(quick_sandbox.ledger(platform="tiktok")) == 1
    assert any("not handed out" in r for r in worker.results)
