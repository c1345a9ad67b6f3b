"""A person's way out of a failed or unconfirmed target (apps/publishing/recovery.py): retry,
"it is there", "it is not there, publish again" — each a conditional, audited move that changes
nothing and says why when the target moved meanwhile, so a double click or a late click never
publishes twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from apps.audit.actions import AuditAction
from apps.audit.models import AuditEvent
from apps.connections.models import Capability, State
from apps.publishing import recovery
from apps.publishing.lifecycle import target_transition
from apps.publishing.models import CrossPost, PublishTarget, TargetState
from apps.publishing.notifications import notify_target_problem
from tests.factories import LinkedAccountFactory, PublishAttemptFactory, PublishTargetFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
S = TargetState


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def make_target(client, state: str, **fields) -> PublishTarget:
    account = LinkedAccountFactory(client=client, handle="northwind")
    target = PublishTargetFactory(
        crosspost__client=client,
        crosspost__scheduled_at=NOW - timedelta(hours=2),
        crosspost__status=(
            CrossPost.Status.FAILED if state in (S.FAILED, S.UNCONFIRMED) else "scheduled"
        ),
        linked_account=account,
        state=state,
        attempts=3,
        last_error_code="spam_risk_too_many_posts",
        last_error_message="TikTok says the account posted too often today.",
        checkpoint={
            "publish_id": "v_pub_file~v2-1.123",
            "upload_url": "https://upload.tiktok.test/video/?upload_id=1&upload_token=secret",
            "uploaded_bytes": 10,
            "total_bytes": 10,
        },
        notified_state=state if state in (S.FAILED, S.UNCONFIRMED) else "",
        dispatched_at=NOW - timedelta(hours=2),
        **fields,
    )
    PublishAttemptFactory(target=target, step="init", outcome="permanent")
    return target


def changes() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.TARGET_STATE_CHANGED).order_by("id"))


def test_a_retry_publishes_again_now_keeping_the_attempts(staff_member, client_obj):
    target = make_target(client_obj, S.FAILED)

    recovery.target_retry(actor=staff_member, target=target)

    target.refresh_from_db()
    assert target.state == S.SCHEDULED
    assert target.due_at == NOW
    assert target.attempts == 3
    assert target.calls.count() == 1
    assert target.state_reason == "Retried by Sam Staff"
    # A fresh start: no lease, no earlier progress to reconcile, no stale error on screen.
    assert (target.dispatched_at, target.lease_until, target.next_attempt_at) == (None, None, None)
    assert target.checkpoint == {}
    assert (target.last_error_code, target.last_error_message) == ("", "")
    assert target.notified_state == ""
    assert CrossPost.objects.get(pk=target.crosspost_id).status == CrossPost.Status.SCHEDULED

    [event] = changes()
    assert event.actor == staff_member
    assert event.target_id == str(target.pk)
    assert event.data["from"] == "failed" and event.data["to"] == "scheduled"
    assert event.data["decision"] == "retry"
    # The abandoned platform ids are on record; the checkpoint's upload URL is not.
    assert event.data["set_aside"] == {"publish_id": "v_pub_file~v2-1.123"}
    assert "upload_token" not in str(event.data)


def test_a_double_click_retries_once_and_says_so(staff_member, client_obj):
    target = make_target(client_obj, S.FAILED)
    seen = PublishTarget.objects.get(pk=target.pk)  # what both clicks were made on

    recovery.target_retry(actor=staff_member, target=seen)
    with pytest.raises(recovery.ChangeRefused) as refused:
        recovery.target_retry(actor=staff_member, target=seen)

    assert "is scheduled now, not failed" in str(refused.value)
    assert "Nothing was changed" in str(refused.value)
    assert len(changes()) == 1


def test_a_retry_after_someone_else_retried_and_it_got_going_changes_nothing(
    staff_member, manager, client_obj
):
    target = make_target(client_obj, S.FAILED)
    stale = PublishTarget.objects.get(pk=target.pk)
    recovery.target_retry(actor=manager, target=target)
    target.refresh_from_db()
    target_transition(target=target, to=S.DISPATCHED, dispatched_at=NOW)

    with pytest.raises(recovery.ChangeRefused, match="is dispatched now, not failed"):
        recovery.target_retry(actor=staff_member, target=stale)

    target.refresh_from_db()
    assert target.state == S.DISPATCHED and target.dispatched_at == NOW
    assert [e.actor for e in changes()] == [manager, None]


def test_a_move_between_the_read_and_the_write_is_refused_whole(
    staff_member, client_obj, monkeypatch
):
    """Without row locks (SQLite) the conditional UPDATE is what catches the race."""
    target = make_target(client_obj, S.FAILED)
    stale = PublishTarget.objects.select_related("crosspost__client", "linked_account").get(
        pk=target.pk
    )
    PublishTarget.objects.filter(pk=target.pk).update(state=S.SCHEDULED, due_at=NOW)
    monkeypatch.setattr(recovery, "_locked", lambda t: stale)

    with pytest.raises(recovery.ChangeRefused, match="changed state a moment ago"):
        recovery.target_retry(actor=staff_member, target=stale)

    target.refresh_from_db()
    assert target.checkpoint["publish_id"] == "v_pub_file~v2-1.123"  # untouched
    assert target.attempts == 3 and target.last_error_code == "spam_risk_too_many_posts"
    assert changes() == []


def test_an_unconfirmed_target_is_not_retried_without_an_answer(staff_member, client_obj):
    target = make_target(client_obj, S.UNCONFIRMED)
    with pytest.raises(recovery.ChangeRefused, match="is unconfirmed now, not failed"):
        recovery.target_retry(actor=staff_member, target=target)
    target.refresh_from_db()
    assert target.state == S.UNCONFIRMED and changes() == []


@pytest.mark.parametrize(
    ("account_fields", "says"),
    [
        ({"state": State.NEEDS_RECONNECT, "state_reason": "TikTok ended the session"}, "Needs"),
        (
            {"publish_capability": Capability.MISSING_SCOPE, "capability_reason": "no scope"},
            "Missing publishing permission",
        ),
    ],
)
def test_an_account_that_cant_publish_is_not_retried(
    staff_member, client_obj, account_fields, says
):
    target = make_target(client_obj, S.FAILED)
    for name, value in account_fields.items():
        setattr(target.linked_account, name, value)
    target.linked_account.save()

    with pytest.raises(recovery.ChangeRefused) as refused:
        recovery.target_retry(actor=staff_member, target=target)

    assert "@northwind on TikTok can't publish now" in str(refused.value)
    assert says in str(refused.value)
    target.refresh_from_db()
    assert target.state == S.FAILED and changes() == []


def test_an_archived_clients_target_is_not_retried(staff_member, client_obj):
    target = make_target(client_obj, S.FAILED)
    client_obj.status = client_obj.Status.ARCHIVED
    client_obj.save()
    with pytest.raises(recovery.ChangeRefused, match="Northwind Coffee is archived"):
        recovery.target_retry(actor=staff_member, target=target)
    target.refresh_from_db()
    assert target.state == S.FAILED


def test_it_is_there_marks_it_published_with_the_pasted_link(manager, client_obj):
    target = make_target(client_obj, S.UNCONFIRMED)
    link = "https://www.tiktok.com/@northwind/video/7234567890123456789"

    recovery.target_confirm_published(actor=manager, target=target, permalink=link)

    target.refresh_from_db()
    assert target.state == S.PUBLISHED
    assert target.permalink == link
    assert target.published_at == NOW
    assert target.state_reason == "Max Manager found it on the profile"
    assert target.checkpoint["publish_id"] == "v_pub_file~v2-1.123"  # kept: it is that post
    assert target.last_error_message == ""
    assert CrossPost.objects.get(pk=target.crosspost_id).status == CrossPost.Status.PUBLISHED
    [event] = changes()
    assert event.actor == manager
    assert event.data["decision"] == "found_on_profile"
    assert event.data["permalink"] == link
    assert (event.data["from"], event.data["to"]) == ("unconfirmed", "published")


def test_it_is_there_without_a_link_leaves_the_link_empty(manager, client_obj):
    target = make_target(client_obj, S.UNCONFIRMED)
    recovery.target_confirm_published(actor=manager, target=target)
    target.refresh_from_db()
    assert target.state == S.PUBLISHED and target.permalink == ""


def test_it_is_not_there_publishes_again_now(admin_user, client_obj):
    target = make_target(client_obj, S.UNCONFIRMED)

    recovery.target_confirm_missing(actor=admin_user, target=target)

    target.refresh_from_db()
    assert target.state == S.SCHEDULED and target.due_at == NOW
    assert target.checkpoint == {} and target.attempts == 3
    assert "didn't find it on the profile" in target.state_reason
    [event] = changes()
    assert event.data["decision"] == "missing_from_profile"
    assert event.data["set_aside"] == {"publish_id": "v_pub_file~v2-1.123"}


def test_it_is_not_there_after_the_platform_confirmed_it_meanwhile_publishes_nothing(
    staff_member, client_obj
):
    """The race that would post twice: a late status answer or webhook settled the target while
    the person was looking at the profile."""
    target = make_target(client_obj, S.UNCONFIRMED)
    stale = PublishTarget.objects.get(pk=target.pk)
    target_transition(target=target, to=S.PUBLISHED, reason="TikTok says it is published")

    with pytest.raises(recovery.ChangeRefused) as refused:
        recovery.target_confirm_missing(actor=staff_member, target=stale)

    assert "is published now, not unconfirmed" in str(refused.value)
    target.refresh_from_db()
    assert target.state == S.PUBLISHED
    assert [e.actor for e in changes()] == [None]  # only the platform's move


def test_answers_are_only_for_unconfirmed_targets(staff_member, client_obj):
    target = make_target(client_obj, S.FAILED)
    with pytest.raises(recovery.ChangeRefused, match="is failed now, not unconfirmed"):
        recovery.target_confirm_published(actor=staff_member, target=target)
    with pytest.raises(recovery.ChangeRefused, match="is failed now, not unconfirmed"):
        recovery.target_confirm_missing(actor=staff_member, target=target)
    target.refresh_from_db()
    assert target.state == S.FAILED and changes() == []


def test_it_is_not_there_is_refused_when_the_account_cant_publish(staff_member, client_obj):
    target = make_target(client_obj, S.UNCONFIRMED)
    target.linked_account.state = State.REVOKED_ON_PLATFORM
    target.linked_account.save()
    with pytest.raises(recovery.ChangeRefused, match="can't publish now"):
        recovery.target_confirm_missing(actor=staff_member, target=target)
    # "It is there" is still a fact worth recording.
    recovery.target_confirm_published(actor=staff_member, target=target)
    target.refresh_from_db()
    assert target.state == S.PUBLISHED


def test_after_a_retry_the_next_failure_is_news_for_the_manager_again(
    staff_member, client_obj, django_capture_on_commit_callbacks
):
    target = make_target(client_obj, S.FAILED)  # the manager already heard about this one
    assert notify_target_problem(target_id=target.pk) is False

    recovery.target_retry(actor=staff_member, target=target)
    target.refresh_from_db()
    for state in (S.DISPATCHED, S.PUBLISHING, S.FAILED):
        target_transition(target=target, to=state)

    with django_capture_on_commit_callbacks(execute=True):
        assert notify_target_problem(target_id=target.pk) is True
    assert [m.to for m in mail.outbox] == [["max@agency.example"]]
