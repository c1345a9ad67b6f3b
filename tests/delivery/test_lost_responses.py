"""A response lost after the platform acted, at every step, never becomes a second post
(DESIGN §6 Reconciliation): the sandbox's ledger shows exactly one post, or the target ends
`unconfirmed` where the platform gives no way to know. Never two."""

from __future__ import annotations

import pytest

from apps.publishing.models import PublishAttempt, TargetState
from tests.connections.helpers import connect
from tests.delivery.pipeline import schedule, stored_video, target_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("platform", "endpoint"),
    [
        ("tiktok", "tiktok.creator_info"),
        ("tiktok", "tiktok.video_init"),
        ("tiktok", "tiktok.upload"),
        ("tiktok", "tiktok.status"),
        ("instagram", "instagram.publishing_limit"),
        ("instagram", "instagram.media_create"),
        ("instagram", "instagram.container"),
        ("instagram", "instagram.media_publish"),
    ],
)
def test_a_lost_answer_at_each_step_still_makes_exactly_one_post(
    quick_sandbox, oauth, worker, manager, client_obj, platform, endpoint
):
    account = connect(oauth, manager, client_obj, platform)
    post = schedule(manager, client_obj, [account])
    quick_sandbox.fault(endpoint, lost_response=True, times=1)

    worker.drive()

    target = target_of(post, platform)
    assert target.state == TargetState.PUBLISHED, (target.state, target.state_reason)
    assert len(quick_sandbox.ledger(platform=platform)) == 1
    if endpoint != "tiktok.upload":  # a chunk's lost answer is absorbed by resending the chunk
        # The lost call is on the record, with its outcome unknown.
        assert target.calls.filter(outcome=PublishAttempt.Outcome.UNKNOWN).exists()


def test_a_lost_init_without_video_list_leaves_the_target_unconfirmed(
    quick_sandbox, oauth, worker, manager, client_obj
):
    scopes = ("user.info.basic", "user.info.profile", "video.publish")
    account = connect(oauth, manager, client_obj, "tiktok", scopes=scopes)
    post = schedule(manager, client_obj, [account])
    quick_sandbox.fault("tiktok.video_init", lost_response=True, times=1)

    worker.drive()

    target = target_of(post, "tiktok")
    assert target.state == TargetState.UNCONFIRMED
    assert "Look at the profile" in target.state_reason
    assert [c.step for c in target.calls.all()].count("init") == 1  # never a blind second init
    assert len(quick_sandbox.ledger(platform="tiktok")) == 0


def test_a_lost_publish_answer_is_settled_by_the_containers_status(
    quick_sandbox, oauth, worker, manager, client_obj
):
    account = connect(oauth, manager, client_obj, "instagram")
    post = schedule(manager, client_obj, [account])
    quick_sandbox.fault("instagram.media_publish", lost_response=True, times=1)

    worker.drive()

    target = target_of(post, "instagram")
    steps = [c.step for c in target.calls.all()]
    assert steps.count("publish") == 1
    assert steps[-1] == "container_status"
    assert target.state == TargetState.PUBLISHED


def test_a_lost_answer_at_every_chunk_of_a_large_upload_still_makes_one_post(
    quick_sandbox, oauth, worker, manager, client_obj
):
    """A file over 64,000,000 bytes goes in chunks (PLATFORMS §1.6(d)); the answer to each
    of the first chunks' PUTs is lost after TikTok stored the bytes. The upload resumes from
    what TikTok says it holds (416 with its range): every byte arrives once, one post."""
    from apps.emulator.models import TikTokPublish

    account = connect(oauth, manager, client_obj, "tiktok")
    asset = stored_video(client_obj, pad_to=65_000_000)
    post = schedule(manager, client_obj, [account], media=asset)
    rule = quick_sandbox.fault("tiktok.upload", lost_response=True, times=6)

    worker.drive()

    (fired,) = [r for r in quick_sandbox.faults()["rules"] if r["id"] == rule["id"]]
    assert fired["hits"] == 6

    target = target_of(post, "tiktok")
    assert target.state == TargetState.PUBLISHED, (target.state, target.state_reason)
    assert len(quick_sandbox.ledger(platform="tiktok")) == 1
    publish = TikTokPublish.objects.get(publish_id=target.checkpoint["publish_id"])
    assert publish.total_chunk_count == 6
    assert publish.uploaded_bytes == asset.size == 65_000_000
