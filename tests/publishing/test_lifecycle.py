"""The publish-target state machine (DESIGN §6): legal moves, conditional updates that lose races
cleanly, the cross-post status derived from its targets, and what a blocked account does to its
pending targets."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from apps.connections.lifecycle import account_transition
from apps.connections.models import State
from apps.publishing.lifecycle import (
    CHANGEABLE_STATES,
    TRANSITIONS,
    IllegalTargetTransition,
    StaleTarget,
    can_transition,
    derive_status,
    target_transition,
)
from apps.publishing.models import CrossPost, PublishTarget, TargetState
from apps.publishing.notifications import notify_target_problem
from tests.connections.helpers import captured_tasks
from tests.factories import CrossPostFactory, LinkedAccountFactory, PublishTargetFactory

S = TargetState


def test_every_state_has_a_row_and_the_ends_are_final():
    assert set(TRANSITIONS) == set(S.values)
    assert TRANSITIONS[S.PUBLISHED] == frozenset()
    assert TRANSITIONS[S.CANCELLED] == frozenset()


@pytest.mark.parametrize(
    ("start", "end", "legal"),
    [
        (S.SCHEDULED, S.DISPATCHED, True),
        (S.SCHEDULED, S.PUBLISHING, False),  # only through dispatch
        (S.DISPATCHED, S.PUBLISHING, True),
        (S.PUBLISHING, S.CANCELLED, False),  # too late: the platform may have it
        (S.PROCESSING, S.SCHEDULED, False),  # never a blind second publish
        (S.UNCONFIRMED, S.SCHEDULED, True),  # a person confirmed nothing went out
        (S.PUBLISHED, S.SCHEDULED, False),
    ],
)
def test_moves(start, end, legal):
    assert can_transition(start, end) is legal


@pytest.mark.parametrize("state", S.values)
def test_the_state_properties_templates_ask_name_one_state_each(state):
    target = PublishTarget(state=state)
    assert target.is_waiting_to_retry is (state == S.RETRY_WAIT)
    assert target.is_failed is (state == S.FAILED)
    assert target.is_unconfirmed is (state == S.UNCONFIRMED)


def test_staff_can_change_a_target_only_before_publishing_starts():
    assert {S.SCHEDULED, S.DISPATCHED, S.RETRY_WAIT} == CHANGEABLE_STATES
    for state in CHANGEABLE_STATES:
        assert can_transition(state, S.CANCELLED)


@pytest.mark.django_db
def test_a_transition_is_a_conditional_update():
    target = PublishTargetFactory()
    target_transition(target=target, to=S.DISPATCHED, reason="due")
    target.refresh_from_db()
    assert target.state == S.DISPATCHED and target.state_reason == "due"


@pytest.mark.django_db
def test_losing_a_race_changes_nothing_and_says_so():
    target = PublishTargetFactory()
    seen_by_staff = PublishTarget.objects.get(pk=target.pk)
    # The dispatcher claims it first …
    target_transition(target=target, to=S.DISPATCHED, reason="due")
    target_transition(target=target, to=S.PUBLISHING, reason="worker")
    # … then the cancel, based on what the page showed, arrives.
    with pytest.raises(StaleTarget):
        target_transition(target=seen_by_staff, to=S.CANCELLED, reason="staff")
    assert PublishTarget.objects.get(pk=target.pk).state == S.PUBLISHING


@pytest.mark.django_db
def test_an_illegal_move_raises_before_touching_the_row():
    target = PublishTargetFactory(state=S.PUBLISHED)
    with pytest.raises(IllegalTargetTransition):
        target_transition(target=target, to=S.SCHEDULED)


@pytest.mark.parametrize(
    ("states", "status"),
    [
        ([S.SCHEDULED, S.SCHEDULED], CrossPost.Status.SCHEDULED),
        ([S.SCHEDULED, S.CANCELLED], CrossPost.Status.SCHEDULED),
        ([S.CANCELLED, S.CANCELLED], CrossPost.Status.CANCELLED),
        ([S.PUBLISHING, S.SCHEDULED], CrossPost.Status.PUBLISHING),
        ([S.PUBLISHED, S.RETRY_WAIT], CrossPost.Status.PUBLISHING),
        ([S.PUBLISHED, S.PUBLISHED], CrossPost.Status.PUBLISHED),
        ([S.PUBLISHED, S.CANCELLED], CrossPost.Status.PUBLISHED),
        ([S.PUBLISHED, S.FAILED], CrossPost.Status.PARTIALLY_PUBLISHED),
        ([S.FAILED, S.UNCONFIRMED], CrossPost.Status.FAILED),
    ],
)
def test_the_post_status_follows_its_targets(states, status):
    assert derive_status(states) == status


def test_a_draft_stays_a_draft():
    assert derive_status([S.SCHEDULED], draft=True) == CrossPost.Status.DRAFT


@pytest.mark.django_db
def test_a_revoked_account_cancels_its_pending_targets_only():
    account = LinkedAccountFactory()
    post = CrossPostFactory(client=account.client)
    pending = PublishTargetFactory(crosspost=post, linked_account=account)
    other_post = CrossPostFactory(client=account.client)
    in_flight = PublishTargetFactory(
        crosspost=other_post, linked_account=account, state=S.PROCESSING
    )
    elsewhere = PublishTargetFactory()  # another account's target is untouched

    account_transition(account=account, to=State.REVOKED_ON_PLATFORM, reason="Removed in app")

    pending.refresh_from_db()
    assert pending.state == S.CANCELLED
    assert "Removed in app" in pending.state_reason
    post.refresh_from_db()
    assert post.status == CrossPost.Status.CANCELLED
    in_flight.refresh_from_db()
    assert in_flight.state == S.PROCESSING  # the platform has it; confirmation decides
    elsewhere.refresh_from_db()
    assert elsewhere.state == S.SCHEDULED


@pytest.mark.django_db
def test_a_paused_account_keeps_its_targets_for_the_reconnect():
    target = PublishTargetFactory()
    account_transition(account=target.linked_account, to=State.NEEDS_RECONNECT, reason="expired")
    target.refresh_from_db()
    assert target.state == S.SCHEDULED


@pytest.mark.django_db(transaction=True)
def test_every_move_is_audited_and_a_problem_state_queues_the_email_on_commit():
    target = PublishTargetFactory()
    with captured_tasks() as tasks:
        target_transition(target=target, to=S.DISPATCHED, reason="due")
        target_transition(target=target, to=S.PUBLISHING, reason="worker")
        assert tasks == []
        target_transition(target=target, to=S.FAILED, reason="TikTok refused the video")
    assert tasks == [("apps.publishing.tasks.notify_target_problem", (target.pk,))]
    events = AuditEvent.objects.filter(action="post.target_state").order_by("id")
    assert [(e.data["from"], e.data["to"]) for e in events] == [
        ("scheduled", "dispatched"),
        ("dispatched", "publishing"),
        ("publishing", "failed"),
    ]
    assert {e.client_id for e in events} == {target.crosspost.client_id}
    assert events.last().data["reason"] == "TikTok refused the video"


@pytest.mark.django_db
def test_the_account_manager_is_emailed_once_per_problem(
    mailoutbox, manager, django_capture_on_commit_callbacks
):
    target = PublishTargetFactory(
        state=S.FAILED, state_reason="The video is too long for this account."
    )
    client = target.crosspost.client
    client.account_manager = manager
    client.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_target_problem(target_id=target.pk) is True
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_target_problem(target_id=target.pk) is False  # re-delivered: nothing
    [mail] = mailoutbox
    assert mail.to == [manager.email]
    assert "could not be published" in mail.subject
    assert "too long for this account" in mail.body
    assert f"/posts/{target.crosspost_id}/" in mail.body
    # A retry that fails again is a new episode.
    PublishTarget.objects.filter(pk=target.pk).update(state=S.SCHEDULED)
    assert notify_target_problem(target_id=target.pk) is False
    PublishTarget.objects.filter(pk=target.pk).update(state=S.UNCONFIRMED)
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_target_problem(target_id=target.pk) is True
    assert len(mailoutbox) == 2 and "Check the profile" in mailoutbox[1].body
