"""What each kind of platform failure does to a target (DESIGN §6 Errors), against the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.connections.models import State
from apps.publishing.models import TargetState
from apps.publishing.pipeline.dispatch import dispatch_due
from tests.connections.helpers import connect
from tests.delivery.pipeline import schedule, target_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tiktok(oauth, manager, client_obj):
    return connect(oauth, manager, client_obj, "tiktok")


@pytest.fixture
def instagram(oauth, manager, client_obj):
    return connect(oauth, manager, client_obj, "instagram")


def run_once(worker) -> None:
    """One dispatch pass now and the tasks it queued (no time passes)."""
    dispatch_due()
    worker.run_queued()


def test_a_rate_limit_waits_for_the_window_then_publishes(
    quick_sandbox, worker, manager, client_obj, tiktok
):
    post = schedule(manager, client_obj, [tiktok])
    quick_sandbox.fault("tiktok.video_init", error="rate_limit_exceeded", times=1)

    run_once(worker)
    target = target_of(post, "tiktok")
    assert target.state == TargetState.RETRY_WAIT
    assert target.next_attempt_at > timezone.now() + timedelta(seconds=30)
    assert target.last_error_code == "rate_limit_exceeded"

    worker.drive()
    target.refresh_from_db()
    assert target.state == TargetState.PUBLISHED
    assert len(quick_sandbox.ledger(platform="tiktok")) == 1


def test_transient_failures_back_off_and_give_up_with_a_reason(
    quick_sandbox, worker, manager, client_obj, instagram, settings
):
    settings.PUBLISH_MAX_ATTEMPTS = 3
    post = schedule(manager, client_obj, [instagram])
    quick_sandbox.fault("instagram.publishing_limit", error="transient")

    run_once(worker)
    first = target_of(post, "instagram")
    assert first.state == TargetState.RETRY_WAIT
    wait = first.next_attempt_at - timezone.now()
    assert timedelta(seconds=10) < wait <= timedelta(seconds=31)

    worker.drive()
    target = target_of(post, "instagram")
    assert target.state == TargetState.FAILED
    assert "gave up after 3 tries" in target.state_reason
    assert target.calls.filter(step="quota").count() == 3
    assert quick_sandbox.ledger(platform="instagram") == []


def test_the_transient_count_starts_again_at_each_step_that_goes_through(
    quick_sandbox, worker, manager, client_obj, instagram, settings
):
    """Two tries allowed per step: one failure at the quota check and one at the container's
    status are two different steps, so the post still goes out (once)."""
    settings.PUBLISH_MAX_ATTEMPTS = 2
    post = schedule(manager, client_obj, [instagram])
    quick_sandbox.fault("instagram.publishing_limit", error="transient", times=1)
    quick_sandbox.fault("instagram.container", error="transient", times=1)

    worker.drive()
    target = target_of(post, "instagram")
    assert target.state == TargetState.PUBLISHED, target.state_reason
    assert target.calls.filter(category="transient").count() == 2
    assert len(quick_sandbox.ledger(platform="instagram")) == 1


def test_a_published_reel_whose_link_does_not_come_back_is_published_without_it(
    quick_sandbox, worker, manager, client_obj, instagram, monkeypatch
):
    from apps.platforms.errors import Category, PlatformError
    from apps.platforms.instagram import client as instagram_client

    def no_link(**_: object) -> None:
        raise PlatformError(
            platform="instagram", category=Category.TRANSIENT, code="2", message="Try again."
        )

    monkeypatch.setattr(instagram_client, "get_media", no_link)
    post = schedule(manager, client_obj, [instagram])

    worker.drive()
    target = target_of(post, "instagram")
    assert target.state == TargetState.PUBLISHED
    assert target.permalink == ""
    assert target.checkpoint["post_id"] == target.checkpoint["media_id"]
    assert "link didn't come back" in target.state_reason
    assert len(quick_sandbox.ledger(platform="instagram")) == 1


def test_a_refused_upload_fails_with_the_platforms_words_and_a_fix(
    quick_sandbox, worker, manager, client_obj, tiktok
):
    post = schedule(manager, client_obj, [tiktok])
    quick_sandbox.fault("tiktok.video_init", error="invalid_param", times=1)

    worker.drive()
    target = target_of(post, "tiktok")
    assert target.state == TargetState.FAILED
    assert target.last_error_code == "invalid_param"
    assert "Check the post options" in target.state_reason  # the table's own advice
    assert [c.step for c in target.calls.all()].count("init") == 1  # a refusal isn't retried


def test_a_banned_account_fails_with_what_to_do(quick_sandbox, worker, manager, client_obj, tiktok):
    post = schedule(manager, client_obj, [tiktok])
    quick_sandbox.fault("tiktok.video_init", error="spam_risk_user_banned_from_posting", times=1)

    worker.drive()
    target = target_of(post, "tiktok")
    assert target.state == TargetState.FAILED
    assert target.state_reason.startswith("TikTok has barred this account from posting")
    assert target.state_reason.endswith("Check the account page, then retry.")
    tiktok.refresh_from_db()
    assert tiktok.publish_capability == "posting_restricted"


def test_an_auth_failure_moves_the_account_and_the_post_resumes_after_reconnect(
    quick_sandbox, worker, oauth, manager, client_obj, instagram
):
    post = schedule(manager, client_obj, [instagram])
    quick_sandbox.fault("instagram.media_create", error="token_expired", times=1)

    run_once(worker)
    instagram.refresh_from_db()
    target = target_of(post, "instagram")
    assert instagram.state == State.NEEDS_RECONNECT
    assert target.state == TargetState.RETRY_WAIT
    assert "reconnected" in target.state_reason

    dispatch_due(now=timezone.now() + timedelta(minutes=10))  # not reconnected yet
    worker.run_queued()
    assert target_of(post, "instagram").state == TargetState.RETRY_WAIT
    assert [c.step for c in target.calls.all()] == ["quota", "container"]
    connect(oauth, manager, client_obj, "instagram", reconnect=instagram)
    worker.drive()
    assert target_of(post, "instagram").state == TargetState.PUBLISHED
    assert len(quick_sandbox.ledger(platform="instagram")) == 1


def test_a_post_waiting_for_a_reconnect_fails_when_the_wait_is_over(
    quick_sandbox, worker, manager, client_obj, tiktok, settings
):
    settings.PUBLISH_RECONNECT_WAIT_SECONDS = 0
    post = schedule(manager, client_obj, [tiktok])
    tiktok.state, tiktok.state_reason = State.NEEDS_RECONNECT, "The token was revoked."
    tiktok.save(update_fields=["state", "state_reason"])

    run_once(worker)
    target = target_of(post, "tiktok")
    assert target.state == TargetState.FAILED
    assert "wasn't reconnected in time" in target.state_reason
    assert not target.calls.exists()


def test_the_due_time_preflight_stops_a_post_the_account_no_longer_takes(
    quick_sandbox, worker, manager, client_obj, tiktok
):
    post = schedule(manager, client_obj, [tiktok])
    quick_sandbox.update_account("tt-public", max_video_post_duration_sec=2)

    run_once(worker)
    target = target_of(post, "tiktok")
    assert target.state == TargetState.FAILED
    assert target.state_reason.startswith("Preflight at the due time:")
    assert [c.step for c in target.calls.all()] == ["creator_info"]  # never reached init
    assert quick_sandbox.ledger(platform="tiktok") == []


def test_a_post_cancelled_after_dispatch_never_goes_out(
    quick_sandbox, worker, manager, client_obj, tiktok
):
    from apps.publishing.services import crosspost_cancel

    post = schedule(manager, client_obj, [tiktok])
    assert dispatch_due() == 1
    assert target_of(post, "tiktok").state == TargetState.DISPATCHED
    crosspost_cancel(actor=manager, post=post)

    worker.run_queued()
    assert target_of(post, "tiktok").state == TargetState.CANCELLED
    assert not target_of(post, "tiktok").calls.exists()
    assert any("not handed out" in result for result in worker.results)
