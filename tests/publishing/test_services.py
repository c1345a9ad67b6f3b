"""The composer's services: drafts, scheduling, edits, reschedules and cancels (DESIGN §6)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.models import AuditEvent
from apps.platforms.types import Platform
from apps.publishing import services
from apps.publishing.accounts import AccountCheck
from apps.publishing.composition import PostContent, PreflightRefused, TargetPlan
from apps.publishing.models import CrossPost, PublishTarget, TargetState
from apps.publishing.preflight import CreatorInfo, Finding, Severity
from tests.factories import (
    CrossPostFactory,
    LinkedAccountFactory,
    MediaAssetFactory,
    PublishTargetFactory,
)

pytestmark = pytest.mark.django_db

CREATOR = CreatorInfo(
    nickname="Northwind Official",
    privacy_level_options=("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"),
    max_video_post_duration_sec=300,
)
TIKTOK_OPTIONS = {"privacy_level": "PUBLIC_TO_EVERYONE", "allow_comment": True}


@pytest.fixture
def accounts(client_obj) -> dict[str, Any]:
    return {
        "tiktok": LinkedAccountFactory(client=client_obj, platform=Platform.TIKTOK, handle="nw"),
        "instagram": LinkedAccountFactory(
            client=client_obj, platform=Platform.INSTAGRAM, handle="nw_ig"
        ),
    }


@pytest.fixture
def checks(accounts) -> dict[int, AccountCheck]:
    return {
        accounts["tiktok"].pk: AccountCheck(creator=CREATOR),
        accounts["instagram"].pk: AccountCheck(posts_left=90),
    }


def content_for(client, accounts, *, tiktok: dict[str, Any] | None = None, **changes: Any):
    values: dict[str, Any] = {
        "media": MediaAssetFactory(client=client),
        "caption": "Autumn menu is here #coffee",
        "caption_overrides": {"instagram": "Autumn menu — link in bio"},
        "targets": (
            TargetPlan(account=accounts["tiktok"], options=tiktok or dict(TIKTOK_OPTIONS)),
            TargetPlan(
                account=accounts["instagram"],
                options={"share_to_feed": True, "cover_offset_ms": 1500},
            ),
        ),
    }
    values.update(changes)
    return PostContent(**values)


def later(hours: int = 24):
    return (timezone.now() + timedelta(hours=hours)).replace(microsecond=0)


def schedule(user, client, accounts, checks, **kwargs: Any) -> CrossPost:
    content = kwargs.pop("content", None) or content_for(client, accounts)
    return services.crosspost_schedule(
        actor=user,
        client=client,
        content=content,
        scheduled_at=kwargs.pop("scheduled_at", later()),
        checks=checks,
        **kwargs,
    )


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


# --- scheduling -------------------------------------------------------------------------------


def test_it_schedules_one_target_per_account_due_at_the_time_with_options_and_findings(
    staff_member, client_obj, accounts, checks, preflight
):
    warning = Finding(
        platform="instagram",
        rule="aspect.recommended",
        severity=Severity.WARNING,
        message="Not 9:16.",
    )
    preflight.findings = [warning]
    when = later(30)
    post = schedule(staff_member, client_obj, accounts, checks, scheduled_at=when)

    assert post.status == CrossPost.Status.SCHEDULED
    assert post.scheduled_at == when
    assert post.caption_overrides == {"instagram": "Autumn menu — link in bio"}
    tiktok = post.targets.get(platform=Platform.TIKTOK)
    instagram = post.targets.get(platform=Platform.INSTAGRAM)
    assert {tiktok.state, instagram.state} == {TargetState.SCHEDULED}
    assert tiktok.due_at == instagram.due_at == when
    # Stored normalized: every switch present, brand choices only under a disclosure.
    assert tiktok.options == {
        "privacy_level": "PUBLIC_TO_EVERYONE",
        "allow_comment": True,
        "allow_duet": False,
        "allow_stitch": False,
        "disclose_commercial": False,
        "brand_organic": False,
        "brand_content": False,
    }
    assert instagram.options == {"share_to_feed": True, "cover_offset_ms": 1500}
    assert instagram.findings == [warning.to_dict()]
    assert tiktok.findings == []
    # Preflight saw each platform's own caption.
    captions = {t.account.platform: t.caption for t in preflight.calls[-1]["targets"]}
    assert captions == {
        "tiktok": "Autumn menu is here #coffee",
        "instagram": "Autumn menu — link in bio",
    }
    [event] = events(AuditAction.POST_SCHEDULED)
    assert event.actor == staff_member
    assert event.data["after"]["scheduled_at"] == when.isoformat()
    assert set(event.data["after"]["accounts"]) == {"@nw on TikTok", "@nw_ig on Instagram"}


def test_the_post_its_targets_and_its_audit_event_are_one_transaction(
    staff_member, client_obj, accounts, checks, preflight, monkeypatch
):
    def broken_audit(**kwargs: Any) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("apps.publishing.services.audit_record", broken_audit)
    with pytest.raises(RuntimeError):
        schedule(staff_member, client_obj, accounts, checks)
    assert not CrossPost.objects.exists()
    assert not PublishTarget.objects.exists()


def test_it_refuses_to_schedule_when_preflight_finds_an_error_and_saves_nothing(
    staff_member, client_obj, accounts, checks, preflight
):
    finding = preflight.error("tiktok", "The video is 1:30; this TikTok account allows 1:00.")
    with pytest.raises(PreflightRefused) as refused:
        schedule(staff_member, client_obj, accounts, checks)
    assert refused.value.findings == [finding]
    assert not CrossPost.objects.exists()
    assert events(AuditAction.POST_SCHEDULED) == []


def test_a_platform_that_could_not_answer_blocks_scheduling_with_its_reason(
    staff_member, client_obj, accounts, checks, preflight
):
    problem = Finding(
        platform="tiktok",
        rule="account.unreachable",
        severity=Severity.ERROR,
        message="TikTok didn't answer about @nw on TikTok: timeout",
    )
    checks[accounts["tiktok"].pk] = AccountCheck(problem=problem)
    with pytest.raises((PreflightRefused, ValidationError)):
        schedule(staff_member, client_obj, accounts, checks)
    assert not CrossPost.objects.exists()


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"privacy_level": ""}, "Choose who can see this TikTok post"),
        ({"privacy_level": "FOLLOWER_OF_CREATOR"}, "“Followers” is not a privacy level"),
        (
            {"privacy_level": "SELF_ONLY", "disclose_commercial": True, "brand_content": True},
            "Branded content can't be private",
        ),
        (
            {"privacy_level": "PUBLIC_TO_EVERYONE", "disclose_commercial": True},
            "Tick “Your brand”, “Branded content” or both",
        ),
    ],
)
def test_the_service_holds_tiktoks_rules_whatever_the_caller_sent(
    staff_member, client_obj, accounts, checks, preflight, options, said
):
    content = content_for(client_obj, accounts, tiktok=options)
    with pytest.raises(ValidationError) as refused:
        schedule(staff_member, client_obj, accounts, checks, content=content)
    assert said in " ".join(refused.value.messages)
    assert not CrossPost.objects.exists()


def test_a_video_longer_than_the_creator_may_post_is_refused_even_if_preflight_missed_it(
    staff_member, client_obj, accounts, checks, preflight
):
    checks[accounts["tiktok"].pk] = AccountCheck(
        creator=CreatorInfo(
            privacy_level_options=("PUBLIC_TO_EVERYONE",), max_video_post_duration_sec=60
        )
    )
    long_cut = MediaAssetFactory(client=client_obj)
    long_cut.probe = {**long_cut.probe, "duration_s": 90.0}
    long_cut.save()
    content = content_for(client_obj, accounts, media=long_cut)
    with pytest.raises(ValidationError) as refused:
        schedule(staff_member, client_obj, accounts, checks, content=content)
    assert (
        "@nw on TikTok: the video is 1:30 long and this creator can post up to 1:00; trim it or "
        "choose a shorter video." in refused.value.messages
    )
    assert not CrossPost.objects.exists()


def test_an_archived_client_gets_no_new_posts(
    staff_member, client_obj, accounts, checks, preflight
):
    client_obj.status = client_obj.Status.ARCHIVED
    client_obj.save()
    with pytest.raises(ValidationError, match="archived"):
        schedule(staff_member, client_obj, accounts, checks)
    assert not CrossPost.objects.exists()


def test_a_second_identical_submission_does_not_make_a_second_post(
    staff_member, client_obj, accounts, checks, preflight
):
    key = "5b0b7a56-3c2f-4a39-9d43-54c8f3f0d0a1"
    first = schedule(staff_member, client_obj, accounts, checks, submission_key=key)
    second = schedule(staff_member, client_obj, accounts, checks, submission_key=key)
    assert second.pk == first.pk
    assert CrossPost.objects.count() == 1
    assert PublishTarget.objects.count() == 2
    assert len(events(AuditAction.POST_SCHEDULED)) == 1


# --- drafts -----------------------------------------------------------------------------------


def test_a_draft_has_targets_that_are_never_due(staff_member, client_obj, accounts, preflight):
    draft = services.crosspost_save_draft(
        actor=staff_member,
        client=client_obj,
        content=content_for(client_obj, accounts, tiktok={"privacy_level": ""}),
        scheduled_at=later(2),
    )
    assert draft.status == CrossPost.Status.DRAFT
    targets = list(draft.targets.all())
    assert len(targets) == 2
    assert all(t.due_at is None for t in targets)
    # What a dispatcher asks for ("due by any time at all") never includes them.
    far_future = timezone.now() + timedelta(days=3650)
    assert not PublishTarget.objects.filter(
        state=TargetState.SCHEDULED, due_at__lte=far_future
    ).exists()
    [event] = events(AuditAction.POST_DRAFT_SAVED)
    assert event.data["after"]["caption"] == "Autumn menu is here #coffee"


def test_saving_a_draft_again_records_what_changed(staff_member, client_obj, accounts, preflight):
    content = content_for(client_obj, accounts)
    draft = services.crosspost_save_draft(
        actor=staff_member, client=client_obj, content=content, scheduled_at=None
    )
    services.crosspost_save_draft(
        actor=staff_member,
        client=client_obj,
        content=PostContent(
            media=content.media,
            caption="Winter menu",
            caption_overrides={},
            targets=content.targets[:1],
        ),
        scheduled_at=None,
        post=draft,
    )
    assert list(draft.targets.values_list("platform", flat=True)) == ["tiktok"]
    last = AuditEvent.objects.filter(action=AuditAction.POST_DRAFT_SAVED).order_by("-id")[0]
    assert last.data["caption"] == {"before": "Autumn menu is here #coffee", "after": "Winter menu"}
    assert list(last.data["accounts"]["after"]) == ["@nw on TikTok"]


def test_scheduling_a_draft_makes_its_own_targets_due(
    staff_member, client_obj, accounts, checks, preflight
):
    content = content_for(client_obj, accounts)
    draft = services.crosspost_save_draft(
        actor=staff_member, client=client_obj, content=content, scheduled_at=None
    )
    ids = set(draft.targets.values_list("pk", flat=True))
    when = later(5)
    post = schedule(staff_member, client_obj, accounts, checks, post=draft, scheduled_at=when)
    assert post.pk == draft.pk
    assert post.status == CrossPost.Status.SCHEDULED
    assert set(post.targets.values_list("pk", flat=True)) == ids
    assert set(post.targets.values_list("due_at", flat=True)) == {when}


# --- reschedule, edit and cancel --------------------------------------------------------------


@pytest.fixture
def scheduled(client_obj, accounts) -> CrossPost:
    post = CrossPostFactory(client=client_obj, scheduled_at=later(10))
    for account in accounts.values():
        PublishTargetFactory(crosspost=post, linked_account=account)
    return post


def test_reschedule_moves_every_pending_target_and_records_before_and_after(
    staff_member, scheduled
):
    before = scheduled.scheduled_at
    scheduled.targets.filter(platform="instagram").update(state=TargetState.DISPATCHED)
    when = later(48)
    services.crosspost_reschedule(actor=staff_member, post=scheduled, scheduled_at=when)
    scheduled.refresh_from_db()
    assert scheduled.scheduled_at == when
    targets = list(scheduled.targets.all())
    assert {t.due_at for t in targets} == {when}
    # A dispatched target that no worker started is taken back.
    assert {t.state for t in targets} == {TargetState.SCHEDULED}
    [event] = events(AuditAction.POST_RESCHEDULED)
    assert event.data["scheduled_at"] == {"before": before.isoformat(), "after": when.isoformat()}


def _dispatcher_moves_last_target_meanwhile(monkeypatch: pytest.MonkeyPatch, to: str) -> None:
    """Between the service's read of the targets and its writes, the dispatcher (and a worker)
    move the last target on: the service holds a stale picture of it.

    In one process the "other writer" runs inside the service's transaction, so its move is
    rolled back with the rest; the tests therefore judge the targets the service itself wrote
    before it met the stale one."""
    from apps.publishing import services as module

    real = module.live_targets

    def read_then_race(post: CrossPost) -> list[PublishTarget]:
        targets = real(post)
        PublishTarget.objects.filter(pk=targets[-1].pk).update(state=to)
        return targets

    monkeypatch.setattr(module, "live_targets", read_then_race)


@pytest.mark.parametrize("moved_to", [TargetState.DISPATCHED, TargetState.PUBLISHING])
def test_a_reschedule_that_loses_a_race_with_the_dispatcher_changes_nothing(
    staff_member, scheduled, monkeypatch, moved_to
):
    before = scheduled.scheduled_at
    _dispatcher_moves_last_target_meanwhile(monkeypatch, moved_to)
    with pytest.raises(services.ChangeRefused, match="nothing was changed"):
        services.crosspost_reschedule(actor=staff_member, post=scheduled, scheduled_at=later(72))
    scheduled.refresh_from_db()
    assert scheduled.scheduled_at == before
    # The first target's new time was rolled back with the rest.
    assert set(scheduled.targets.values_list("due_at", flat=True)) == {before}
    assert events(AuditAction.POST_RESCHEDULED) == []


@pytest.mark.parametrize("moved_to", [TargetState.DISPATCHED, TargetState.PUBLISHING])
def test_a_cancel_that_loses_a_race_with_the_dispatcher_changes_nothing(
    staff_member, scheduled, monkeypatch, moved_to
):
    _dispatcher_moves_last_target_meanwhile(monkeypatch, moved_to)
    with pytest.raises(services.ChangeRefused, match="nothing was changed"):
        services.crosspost_cancel(actor=staff_member, post=scheduled)
    first = scheduled.targets.order_by("pk").first()
    assert first.state == TargetState.SCHEDULED  # its cancel was rolled back
    scheduled.refresh_from_db()
    assert scheduled.status == CrossPost.Status.SCHEDULED
    assert events(AuditAction.POST_CANCELLED) == []


def test_a_post_whose_publishing_started_cannot_be_cancelled_or_rescheduled(
    staff_member, scheduled
):
    scheduled.targets.filter(platform="tiktok").update(state=TargetState.PUBLISHING)
    with pytest.raises(services.ChangeRefused, match="Publishing has started on @nw on TikTok"):
        services.crosspost_cancel(actor=staff_member, post=scheduled)
    with pytest.raises(services.ChangeRefused, match="Publishing has started"):
        services.crosspost_reschedule(actor=staff_member, post=scheduled, scheduled_at=later(3))
    assert scheduled.targets.filter(state=TargetState.SCHEDULED).count() == 1


def test_cancel_stops_every_pending_target_and_leaves_finished_ones(staff_member, scheduled):
    scheduled.targets.filter(platform="tiktok").update(state=TargetState.FAILED)
    services.crosspost_cancel(actor=staff_member, post=scheduled)
    states = dict(scheduled.targets.values_list("platform", "state"))
    assert states == {"tiktok": TargetState.FAILED, "instagram": TargetState.CANCELLED}
    [event] = events(AuditAction.POST_CANCELLED)
    assert event.data["targets"] == {
        "before": {"@nw_ig on Instagram": "scheduled"},
        "after": {"@nw_ig on Instagram": "cancelled"},
    }


def test_cancelling_a_draft_cancels_it(staff_member, client_obj, accounts, preflight):
    draft = services.crosspost_save_draft(
        actor=staff_member,
        client=client_obj,
        content=content_for(client_obj, accounts),
        scheduled_at=None,
    )
    services.crosspost_cancel(actor=staff_member, post=draft)
    draft.refresh_from_db()
    assert draft.status == CrossPost.Status.CANCELLED
    assert set(draft.targets.values_list("state", flat=True)) == {TargetState.CANCELLED}


def test_an_edit_changes_caption_options_and_accounts_and_records_before_and_after(
    staff_member, client_obj, accounts, checks, scheduled, preflight
):
    other = LinkedAccountFactory(client=client_obj, platform=Platform.TIKTOK, handle="nw2")
    checks[other.pk] = AccountCheck(creator=CREATOR)
    content = PostContent(
        media=scheduled.media,
        caption="New caption",
        caption_overrides={},
        targets=(
            TargetPlan(account=accounts["tiktok"], options={"privacy_level": "SELF_ONLY"}),
            TargetPlan(account=other, options={"privacy_level": "MUTUAL_FOLLOW_FRIENDS"}),
        ),
    )
    services.crosspost_update(
        actor=staff_member,
        post=scheduled,
        content=content,
        scheduled_at=scheduled.scheduled_at,
        checks=checks,
    )
    scheduled.refresh_from_db()
    assert scheduled.caption == "New caption"
    states = {t.linked_account.handle: t.state for t in scheduled.targets.all()}
    assert states == {
        "nw": TargetState.SCHEDULED,
        "nw_ig": TargetState.CANCELLED,
        "nw2": TargetState.SCHEDULED,
    }
    assert scheduled.targets.get(linked_account=other).due_at == scheduled.scheduled_at
    assert scheduled.targets.get(linked_account=accounts["tiktok"]).options["privacy_level"] == (
        "SELF_ONLY"
    )
    [event] = events(AuditAction.POST_EDITED)
    assert event.data["changes"]["caption"] == {
        "before": "New season, new menu #bakery",
        "after": "New caption",
    }
    assert set(event.data["changes"]["accounts"]["after"]) == {"@nw on TikTok", "@nw2 on TikTok"}
    assert events(AuditAction.POST_RESCHEDULED) == []


def test_an_edit_that_loses_a_race_with_the_dispatcher_changes_nothing(
    staff_member, client_obj, accounts, checks, scheduled, preflight, monkeypatch
):
    _dispatcher_moves_last_target_meanwhile(monkeypatch, TargetState.PUBLISHING)
    content = content_for(client_obj, accounts, caption="Changed", media=scheduled.media)
    with pytest.raises(services.ChangeRefused):
        services.crosspost_update(
            actor=staff_member,
            post=scheduled,
            content=content,
            scheduled_at=scheduled.scheduled_at,
            checks=checks,
        )
    scheduled.refresh_from_db()
    assert scheduled.caption == "New season, new menu #bakery"
    assert all(t.options == {} for t in scheduled.targets.all())
    assert events(AuditAction.POST_EDITED) == []


def test_a_post_already_published_somewhere_cannot_be_edited(
    staff_member, client_obj, accounts, checks, scheduled, preflight
):
    scheduled.targets.filter(platform="instagram").update(state=TargetState.PUBLISHED)
    with pytest.raises(services.ChangeRefused, match="can't be edited"):
        services.crosspost_update(
            actor=staff_member,
            post=scheduled,
            content=content_for(client_obj, accounts, media=scheduled.media),
            scheduled_at=scheduled.scheduled_at,
            checks=checks,
        )
