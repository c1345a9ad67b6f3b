"""The composer over HTTP: what the page shows from each platform, the TikTok Direct Post rules
the server holds (PLATFORMS §1.11), scheduling in the client's timezone, the live preflight
fragment, edit, reschedule and cancel."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.models import AuditEvent
from apps.connections.models import State
from apps.publishing.models import CrossPost, PublishTarget, TargetState
from apps.publishing.preflight import Finding, Severity
from tests.factories import (
    ClientFactory,
    CrossPostFactory,
    LinkedAccountFactory,
    MediaAssetFactory,
    PublishTargetFactory,
)
from tests.publishing.fakes import FakePlatforms, creator, instagram_account, tiktok_account
from tests.publishing.helpers import (
    instagram_fields,
    messages_of,
    page_state,
    text_of,
    tiktok_fields,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def http(client, staff_member):
    client.force_login(staff_member)
    return client


@pytest.fixture
def tiktok(platforms: FakePlatforms, client_obj):
    return tiktok_account(platforms, client_obj)


@pytest.fixture
def instagram(platforms: FakePlatforms, client_obj):
    return instagram_account(platforms, client_obj)


@pytest.fixture
def media(client_obj):
    return MediaAssetFactory(client=client_obj, original_name="autumn.mp4")


def compose_url(client) -> str:
    return reverse("publishing:compose", kwargs={"slug": client.slug})


def preflight_new_url(client) -> str:
    return reverse("publishing:preflight_new", kwargs={"slug": client.slug})


def open_composer(http, client) -> dict[str, str]:
    response = http.get(compose_url(client))
    assert response.status_code == 200
    return page_state(response)


def submission(http, client, media, *accounts_fields: dict[str, Any], **fields: Any):
    """A full composer submission as the page would send it."""
    data: dict[str, Any] = {
        **open_composer(http, client),
        "media": media.pk,
        "caption": "Autumn menu #coffee",
        "date": "2031-05-01",
        "time": "09:00",
        "action": "schedule",
    }
    accounts: list[int] = []
    for account_fields in accounts_fields:
        data.update(account_fields)
        accounts += sorted({int(re.match(r"a(\d+)_", k).group(1)) for k in account_fields})
    data["accounts"] = accounts
    data.update(fields)
    return data


# --- what the page shows ----------------------------------------------------------------------


def test_the_tiktok_part_shows_the_creator_and_privacy_from_creator_info_with_nothing_chosen(
    http, platforms, client_obj
):
    account = tiktok_account(
        platforms,
        client_obj,
        handle="nw.private",
        creator_nickname="Northwind Private",
        privacy_level_options=["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    )
    response = http.get(compose_url(client_obj))
    html = response.content.decode()
    assert "TikTok · Northwind Private" in html
    assert 'src="https://p16-sign.tiktokcdn.com/avatar.jpeg"' in html
    select = re.search(rf'<select name="a{account.pk}_privacy_level"[^>]*>.*?</select>', html, re.S)
    assert " required" in select.group(0).split(">")[0]
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(0))
    assert options == [
        ("", " selected", "Choose who can see this"),
        ("FOLLOWER_OF_CREATOR", "", "Followers"),
        ("MUTUAL_FOLLOW_FRIENDS", "", "Friends"),
        ("SELF_ONLY", "", "Only me"),
    ]
    # Creator info was asked server-side, once, with that account's own token.
    assert platforms.count("creator_info") == 1
    # The page may show TikTok's avatar under the strict CSP.
    assert "tiktokcdn.com" in response["Content-Security-Policy"]


def test_interactions_and_the_disclosure_start_off_and_what_the_creator_disabled_stays_disabled(
    http, platforms, client_obj
):
    account = tiktok_account(platforms, client_obj, comment_disabled=True, stitch_disabled=True)
    html = http.get(compose_url(client_obj)).content.decode()

    def checkbox(key: str) -> str:
        return re.search(rf'<input type="checkbox" name="a{account.pk}_{key}"[^>]*>', html).group(0)

    for key in ("allow_comment", "allow_duet", "allow_stitch", "disclose_commercial"):
        assert "checked" not in checkbox(key)
    assert "disabled" in checkbox("allow_comment")
    assert "disabled" in checkbox("allow_stitch")
    assert "disabled" not in checkbox("allow_duet")
    assert "Comments are turned off for this account in TikTok." in html


def test_the_declaration_stands_right_before_the_buttons_with_tiktoks_pages(
    http, tiktok, client_obj
):
    html = http.get(compose_url(client_obj)).content.decode()
    declaration = html.index("By posting, you agree to TikTok's")
    assert 'href="https://www.tiktok.com/legal/page/global/music-usage-confirmation/en"' in html
    between = html[declaration : html.index('name="action"')]
    assert "<section" not in between and "<input" not in between
    # Branded content isn't on, so its policy isn't part of the declaration yet.
    assert re.search(r"<span data-branded-declaration hidden>", html)


def test_accounts_that_cannot_publish_are_shown_disabled_with_why_and_where_to_fix_it(
    http, platforms, client_obj
):
    broken = LinkedAccountFactory(
        client=client_obj,
        handle="nw.broken",
        state=State.NEEDS_RECONNECT,
        state_reason="TikTok no longer accepts the stored authorization",
    )
    html = http.get(compose_url(client_obj)).content.decode()
    box = re.search(rf'<input type="checkbox" name="accounts" value="{broken.pk}"[^>]*>', html)
    assert "disabled" in box.group(0)
    assert "Can't publish — Needs reconnect: TikTok no longer accepts the stored authorization" in (
        " ".join(html.split())
    )
    assert reverse("connections:account", kwargs={"pk": broken.pk}) in html
    assert platforms.calls == []  # nobody asks the platform about an account that can't post


def test_only_this_clients_accounts_can_be_chosen(http, tiktok, media, client_obj, preflight):
    stranger = LinkedAccountFactory(client=ClientFactory(), handle="someone.else")
    html = http.get(compose_url(client_obj)).content.decode()
    assert "someone.else" not in html
    data = submission(http, client_obj, media, tiktok_fields(tiktok))
    data["accounts"] = [tiktok.pk, stranger.pk]
    response = http.post(compose_url(client_obj), data)
    assert response.status_code == 200
    assert "Choose among this client's connected accounts." in text_of(response)
    assert not CrossPost.objects.exists()


def test_a_posting_cap_from_creator_info_is_said_and_that_account_gets_no_post(
    http, platforms, tiktok, media, client_obj, preflight
):
    platforms.creators["act.northwind"] = "spam_risk_too_many_posts"
    page = http.get(compose_url(client_obj))
    assert "TikTok says this account can't post right now (spam risk too many posts)" in (
        text_of(page)
    )
    assert f'name="a{tiktok.pk}_privacy_level"' not in page.content.decode()
    box = re.search(
        rf'<input type="checkbox" name="accounts" value="{tiktok.pk}"[^>]*>', page.content.decode()
    )
    assert "disabled" in box.group(0)
    response = http.post(
        compose_url(client_obj), submission(http, client_obj, media, tiktok_fields(tiktok))
    )
    assert response.status_code == 200
    assert "TikTok says this account can't post right now" in text_of(response)
    assert not CrossPost.objects.exists()


def test_a_creator_info_failure_becomes_a_finding_not_an_error_page(
    http, platforms, tiktok, media, client_obj, preflight
):
    platforms.creators["act.northwind"] = (500, "internal_error")
    page = http.get(compose_url(client_obj))
    assert page.status_code == 200
    assert "TikTok didn't answer about @northwind on TikTok" in text_of(page)
    data = submission(http, client_obj, media, tiktok_fields(tiktok))
    fragment = http.post(preflight_new_url(client_obj), data)
    assert fragment.status_code == 200
    assert "TikTok didn't answer about @northwind on TikTok" in text_of(fragment)
    assert "Error" in text_of(fragment)
    response = http.post(compose_url(client_obj), data)
    assert response.status_code == 200
    assert not CrossPost.objects.exists()
    # Not remembered: the next check asks TikTok again, and its answer is used.
    platforms.creators["act.northwind"] = creator()
    asked = platforms.count("creator_info")
    fragment = http.post(preflight_new_url(client_obj), data)
    assert platforms.count("creator_info") == asked + 1
    assert "didn't answer" not in text_of(fragment)


def test_an_unanswered_creator_info_is_reported_once_by_the_real_preflight(
    http, platforms, tiktok, media, client_obj
):
    platforms.creators["act.northwind"] = (500, "internal_error")
    data = submission(http, client_obj, media, tiktok_fields(tiktok))
    text = text_of(http.post(preflight_new_url(client_obj), data))
    assert text.count("didn't answer about @northwind on TikTok") == 1
    assert "Couldn't load the posting options" not in text


@time_machine.travel(datetime(2025, 1, 15, 3, 0, tzinfo=UTC), tick=False)
def test_times_are_asked_in_the_clients_zone_shown_with_its_offset(http, client_obj):
    client_obj.timezone = "Australia/Sydney"
    client_obj.save()
    html = http.get(compose_url(client_obj)).content.decode()
    assert "Time in Australia/Sydney (UTC+11:00)" in html


def test_the_client_page_offers_a_new_post_unless_archived(http, client_obj):
    detail = reverse("clients:detail", kwargs={"slug": client_obj.slug})
    assert compose_url(client_obj) in http.get(detail).content.decode()
    client_obj.status = client_obj.Status.ARCHIVED
    client_obj.save()
    assert compose_url(client_obj) not in http.get(detail).content.decode()


def test_an_archived_client_gets_no_new_post(http, tiktok, media, client_obj, preflight):
    client_obj.status = client_obj.Status.ARCHIVED
    client_obj.save()
    response = http.get(compose_url(client_obj))
    assert response.status_code == 302
    assert "is archived" in messages_of(response)[0]
    response = http.post(compose_url(client_obj), {"action": "schedule"})
    assert response.status_code == 302
    assert not CrossPost.objects.exists()


# --- TikTok's rules, held by the server ----------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "creator_changes", "reason"),
    [
        (
            {"privacy_level": ""},
            {},
            "Choose who can see this TikTok post. Pick a privacy level — TikTok requires a "
            "choice, there is no default.",
        ),
        (
            {"disclose_commercial": True},
            {},
            "Commercial content disclosure is on, but neither “Your brand” nor “Branded content” "
            "is ticked.",
        ),
        (
            {"privacy_level": "SELF_ONLY", "disclose_commercial": True, "brand_content": True},
            {},
            "Branded content can't be private",
        ),
        (
            {"privacy_level": "PUBLIC_TO_EVERYONE"},
            {"privacy_level_options": ["FOLLOWER_OF_CREATOR", "SELF_ONLY"]},
            "“Everyone” is not a privacy level this TikTok account offers. Pick one of: "
            "Followers, Only me.",
        ),
        (
            {"allow_comment": True},
            {"comment_disabled": True},
            "This TikTok account has turned comments off, so this post can't allow comments.",
        ),
        (
            {"allow_duet": True},
            {"duet_disabled": True},
            "This TikTok account has turned duets off",
        ),
    ],
)
def test_the_server_refuses_what_tiktok_does_not_allow_and_saves_nothing(
    http, platforms, media, client_obj, preflight, options, creator_changes, reason
):
    account = tiktok_account(platforms, client_obj, **creator_changes)
    data = submission(http, client_obj, media, tiktok_fields(account, **options))
    response = http.post(compose_url(client_obj), data)
    assert response.status_code == 200
    assert reason in text_of(response)
    assert not CrossPost.objects.exists()
    assert not PublishTarget.objects.exists()


def test_the_server_asks_tiktok_again_when_scheduling(
    http, platforms, tiktok, media, client_obj, preflight
):
    data = submission(http, client_obj, media, tiktok_fields(tiktok, privacy_level="SELF_ONLY"))
    asked = platforms.count("creator_info")
    # Meanwhile the creator went private-only: the answer the page showed is no longer true.
    platforms.creators["act.northwind"] = creator(privacy_level_options=["FOLLOWER_OF_CREATOR"])
    response = http.post(compose_url(client_obj), data)
    assert platforms.count("creator_info") == asked + 1
    assert "“Only me” is not a privacy level this TikTok account offers" in text_of(response)
    assert not CrossPost.objects.exists()


# --- scheduling -------------------------------------------------------------------------------


def test_scheduling_lands_on_the_post_page_saying_processing_takes_a_few_minutes(
    http, tiktok, instagram, media, client_obj, preflight
):
    data = submission(
        http,
        client_obj,
        media,
        tiktok_fields(tiktok, allow_comment=True),
        instagram_fields(instagram, cover_at="2.5"),
        caption_instagram="Autumn menu — link in bio",
    )
    response = http.post(compose_url(client_obj), data)
    post = CrossPost.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("publishing:post", kwargs={"pk": post.pk})
    [message] = messages_of(response)
    assert "Scheduled: publishes Thu 1 May 2031, 09:00 BST (UTC+01:00)" in message
    assert "can take a few minutes to process" in message
    assert post.scheduled_at == datetime(2031, 5, 1, 8, 0, tzinfo=UTC)
    assert post.caption_overrides == {"instagram": "Autumn menu — link in bio"}
    targets = {t.platform: t for t in post.targets.all()}
    assert targets["tiktok"].options["allow_comment"] is True
    assert targets["tiktok"].options["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert targets["instagram"].options == {"share_to_feed": True, "cover_offset_ms": 2500}
    assert {t.due_at for t in targets.values()} == {post.scheduled_at}
    assert AuditEvent.objects.filter(action=AuditAction.POST_SCHEDULED).count() == 1


def test_an_instagram_cover_frame_must_lie_within_the_video(
    http, instagram, media, client_obj, preflight
):
    data = submission(http, client_obj, media, instagram_fields(instagram, cover_at="30.0"))
    response = http.post(compose_url(client_obj), data)
    assert response.status_code == 200
    assert "The cover frame must be within the video: from 0 to under 30.0 seconds." in (
        text_of(response)
    )
    assert not CrossPost.objects.exists()
    data = submission(http, client_obj, media, instagram_fields(instagram, cover_at="29.9"))
    assert http.post(compose_url(client_obj), data).status_code == 302
    assert PublishTarget.objects.get().options["cover_offset_ms"] == 29_900


def test_the_upload_widget_is_offered_when_it_exists_and_the_select_stays(
    http, media, client_obj, settings, tmp_path
):
    assert 'name="media"' in http.get(compose_url(client_obj)).content.decode()
    widget = tmp_path / "publishing" / "_upload.html"
    widget.parent.mkdir()
    widget.write_text('<div data-testid="upload-widget">upload for {{ client.slug }}</div>')
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    html = http.get(compose_url(client_obj)).content.decode()
    assert f'<div data-testid="upload-widget">upload for {client_obj.slug}</div>' in html
    # The no-JavaScript path stays: a plain choice of the client's videos, after the widget.
    assert html.index("upload-widget") < html.index('<select name="media"')
    assert f'<option value="{media.pk}"' in html


def test_publish_now_is_due_at_once(http, tiktok, media, client_obj, preflight):
    data = submission(
        http, client_obj, media, tiktok_fields(tiktok), action="now", date="", time=""
    )
    response = http.post(compose_url(client_obj), data)
    assert response.status_code == 302
    target = PublishTarget.objects.get()
    assert abs(target.due_at - timezone.now()) < timedelta(seconds=5)
    assert "Publishing now." in messages_of(response)[0]


def test_a_double_click_makes_one_post(http, tiktok, media, client_obj, preflight):
    data = submission(http, client_obj, media, tiktok_fields(tiktok))
    first = http.post(compose_url(client_obj), data)
    second = http.post(compose_url(client_obj), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert CrossPost.objects.count() == 1
    assert PublishTarget.objects.count() == 1


def test_preflight_errors_refuse_scheduling_and_show_the_fix(
    http, tiktok, media, client_obj, preflight
):
    preflight.findings = [
        Finding(
            platform="tiktok",
            rule="duration.max",
            severity=Severity.ERROR,
            message="The video is 1:30 long; @northwind on TikTok takes up to 1:00.",
            fix="Trim it to 1:00 or less, or choose a shorter video.",
        )
    ]
    response = http.post(
        compose_url(client_obj), submission(http, client_obj, media, tiktok_fields(tiktok))
    )
    assert response.status_code == 200
    text = text_of(response)
    assert "Nothing was scheduled: the checks below found problems to fix first." in text
    assert "The video is 1:30 long" in text
    assert "Trim it to 1:00 or less" in text
    assert not CrossPost.objects.exists()


def test_a_draft_needs_little_and_returns_to_its_edit_page(
    http, tiktok, media, client_obj, preflight
):
    data = submission(
        http, client_obj, media, tiktok_fields(tiktok, privacy_level=""), action="draft", time=""
    )
    response = http.post(compose_url(client_obj), data)
    draft = CrossPost.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("publishing:edit", kwargs={"pk": draft.pk})
    assert draft.status == CrossPost.Status.DRAFT
    assert draft.targets.get().due_at is None
    # Finishing it later: the edit page shows what was saved.
    page = http.get(response["Location"])
    assert page.status_code == 200
    assert "Autumn menu #coffee" in page.content.decode()
    assert re.search(rf'name="accounts" value="{tiktok.pk}"[^>]* checked', page.content.decode())


# --- in the client's timezone -------------------------------------------------------------------


@pytest.fixture
def sydney(client_obj):
    client_obj.timezone = "Australia/Sydney"
    client_obj.save()
    return client_obj


@time_machine.travel(datetime(2025, 9, 1, tzinfo=UTC), tick=False)
@pytest.mark.parametrize(
    ("day", "utc"),
    [
        ("2025-10-04", datetime(2025, 10, 3, 23, 0, tzinfo=UTC)),  # AEST, UTC+10
        ("2025-10-05", datetime(2025, 10, 4, 22, 0, tzinfo=UTC)),  # the change: AEDT, UTC+11
    ],
)
def test_nine_in_sydney_around_the_clock_change_is_due_at_the_right_instant(
    http, tiktok, media, sydney, preflight, day, utc
):
    data = submission(http, sydney, media, tiktok_fields(tiktok), date=day, time="09:00")
    response = http.post(compose_url(sydney), data)
    assert response.status_code == 302, text_of(response)
    assert PublishTarget.objects.get().due_at == utc


@time_machine.travel(datetime(2025, 9, 1, tzinfo=UTC), tick=False)
def test_a_time_skipped_by_the_clock_change_is_refused_with_the_gap(
    http, tiktok, media, sydney, preflight
):
    data = submission(http, sydney, media, tiktok_fields(tiktok), date="2025-10-05", time="02:30")
    response = http.post(compose_url(sydney), data)
    assert response.status_code == 200
    assert (
        "02:30 on Sunday 5 October 2025 doesn't exist in Australia/Sydney: the clocks go forward "
        "from 02:00 to 03:00 that night." in text_of(response)
    )
    assert not CrossPost.objects.exists()


@time_machine.travel(datetime(2025, 3, 1, tzinfo=UTC), tick=False)
def test_a_repeated_time_is_asked_about_then_taken_as_chosen(
    http, tiktok, media, sydney, preflight
):
    data = submission(http, sydney, media, tiktok_fields(tiktok), date="2025-04-06", time="02:30")
    response = http.post(compose_url(sydney), data)
    assert response.status_code == 200
    text = text_of(response)
    assert "02:30 on Sunday 6 April 2025 happens twice in Australia/Sydney" in text
    assert "The first time, AEDT (UTC+11:00)" in text
    assert "The second time, AEST (UTC+10:00)" in text
    assert not CrossPost.objects.exists()

    response = http.post(compose_url(sydney), {**data, "fold": "1"})
    assert response.status_code == 302
    assert PublishTarget.objects.get().due_at == datetime(2025, 4, 5, 16, 30, tzinfo=UTC)


def test_a_time_that_has_passed_is_refused(http, tiktok, media, client_obj, preflight):
    data = submission(http, client_obj, media, tiktok_fields(tiktok), date="2020-01-01")
    response = http.post(compose_url(client_obj), data)
    assert response.status_code == 200
    assert "has already passed" in text_of(response)
    assert not CrossPost.objects.exists()


# --- live preflight ---------------------------------------------------------------------------


def test_the_fragment_lists_findings_by_platform_with_severity_and_fix(
    http, tiktok, instagram, media, client_obj, preflight
):
    preflight.findings = [
        Finding(
            platform="instagram",
            rule="aspect.recommended",
            severity=Severity.WARNING,
            message="The video isn't 9:16.",
        ),
        Finding(
            platform="tiktok",
            rule="account.reconnect",
            severity=Severity.ERROR,
            message="@northwind on TikTok needs a reconnect.",
            fix="Reconnect it.",
            fix_url="/connections/1/",
        ),
        Finding(
            platform="",
            rule="container",
            severity=Severity.ERROR,
            message="The file is WebM.",
            fix="Export it as MP4.",
        ),
    ]
    data = submission(http, client_obj, media, tiktok_fields(tiktok), instagram_fields(instagram))
    response = http.post(
        reverse("publishing:preflight_new", kwargs={"slug": client_obj.slug}), data
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a fragment
    text = text_of(response)
    assert text.index("The video") < text.index("TikTok") < text.index("Instagram")
    assert "Error The file is WebM. Export it as MP4." in text
    assert "Warning The video isn't 9:16." in text
    assert '<a href="/connections/1/">Fix it there</a>' in html
    assert 'id="preflight-status" hx-swap-oob="innerHTML">Checks: 2 errors, 1 warning.' in html
    # The preview shows each platform's caption before anything is confirmed.
    assert "@northwind on TikTok · Everyone" in text
    assert "Publishes Thu 1 May 2031, 09:00 BST (UTC+01:00)" in text


def test_live_preflight_reuses_what_the_page_was_told_and_asks_again_when_it_cannot(
    http, platforms, tiktok, media, client_obj, preflight
):
    url = preflight_new_url(client_obj)
    data = submission(http, client_obj, media, tiktok_fields(tiktok))
    asked = platforms.count("creator_info")
    http.post(url, data)
    http.post(url, data)
    assert platforms.count("creator_info") == asked
    http.post(url, {**data, "account_checks": data["account_checks"] + "tampered"})
    assert platforms.count("creator_info") == asked + 1
    # The creator info preflight saw is the one TikTok gave.
    [target] = preflight.calls[-1]["targets"]
    assert target.account.creator.max_video_post_duration_sec == 300
    assert target.account.creator.nickname == "Northwind Coffee Official"


def test_the_fragment_of_another_clients_post_is_not_found(http, preflight):
    other = CrossPostFactory(client=ClientFactory())
    response = http.post(reverse("publishing:preflight", kwargs={"pk": other.pk}), {})
    assert response.status_code == 404


# --- edit, reschedule and cancel ----------------------------------------------------------------


@pytest.fixture
def scheduled(client_obj, tiktok):
    post = CrossPostFactory(client=client_obj, scheduled_at=datetime(2031, 6, 1, 8, tzinfo=UTC))
    PublishTargetFactory(
        crosspost=post,
        linked_account=tiktok,
        options={"privacy_level": "MUTUAL_FOLLOW_FRIENDS", "allow_duet": True},
    )
    return post


def test_the_edit_page_of_a_scheduled_post_shows_its_values_and_saves_changes(
    http, scheduled, tiktok, client_obj, preflight
):
    url = reverse("publishing:edit", kwargs={"pk": scheduled.pk})
    html = http.get(url).content.decode()
    assert 'value="2031-06-01"' in html and 'value="09:00"' in html
    assert re.search(r'<option value="MUTUAL_FOLLOW_FRIENDS" selected>', html)
    assert re.search(rf'name="a{tiktok.pk}_allow_duet"[^>]*checked', html)
    data = {
        **page_state(http.get(url)),
        "media": scheduled.media_id,
        "caption": "Edited caption",
        "accounts": [tiktok.pk],
        **tiktok_fields(tiktok, privacy_level="SELF_ONLY"),
        "date": "2031-06-02",
        "time": "10:30",
        "action": "schedule",
    }
    response = http.post(url, data)
    assert response.status_code == 302
    scheduled.refresh_from_db()
    assert scheduled.caption == "Edited caption"
    assert scheduled.scheduled_at == datetime(2031, 6, 2, 9, 30, tzinfo=UTC)
    target = scheduled.targets.get()
    assert target.due_at == scheduled.scheduled_at
    assert target.options["privacy_level"] == "SELF_ONLY"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {AuditAction.POST_EDITED, AuditAction.POST_RESCHEDULED} <= actions


def test_a_post_being_published_is_not_editable(http, scheduled):
    scheduled.targets.update(state=TargetState.PUBLISHING)
    response = http.get(reverse("publishing:edit", kwargs={"pk": scheduled.pk}))
    assert response.status_code == 302
    assert response["Location"] == reverse("publishing:post", kwargs={"pk": scheduled.pk})


def test_reschedule_shows_the_current_time_in_the_clients_zone_and_moves_the_post(http, scheduled):
    url = reverse("publishing:reschedule", kwargs={"pk": scheduled.pk})
    page = http.get(url)
    assert "Now set for Sun 1 Jun 2031, 09:00 BST (UTC+01:00)." in text_of(page)
    response = http.post(url, {"date": "2031-06-03", "time": "18:15"})
    assert response.status_code == 302
    assert "Rescheduled: publishes Tue 3 Jun 2031, 18:15 BST" in messages_of(response)[0]
    assert PublishTarget.objects.get().due_at == datetime(2031, 6, 3, 17, 15, tzinfo=UTC)


def test_reschedule_says_why_when_publishing_has_started(http, scheduled):
    scheduled.targets.update(state=TargetState.PUBLISHING)
    url = reverse("publishing:reschedule", kwargs={"pk": scheduled.pk})
    response = http.post(url, {"date": "2031-06-03", "time": "18:15"})
    assert response.status_code == 200
    assert "Publishing has started on @northwind on TikTok" in text_of(response)
    assert PublishTarget.objects.get().due_at == datetime(2031, 6, 1, 8, tzinfo=UTC)


def test_cancel_cancels_and_says_so(http, scheduled):
    response = http.post(reverse("publishing:cancel", kwargs={"pk": scheduled.pk}))
    assert response.status_code == 302
    assert messages_of(response) == ["Post cancelled: nothing of it will be published."]
    assert PublishTarget.objects.get().state == TargetState.CANCELLED


def test_cancel_refused_once_publishing_started_says_why(http, scheduled):
    scheduled.targets.update(state=TargetState.PROCESSING)
    response = http.post(reverse("publishing:cancel", kwargs={"pk": scheduled.pk}))
    assert response.status_code == 302
    assert "Publishing has started" in messages_of(response)[0]
    assert PublishTarget.objects.get().state == TargetState.PROCESSING


def test_cancel_is_post_only(http, scheduled):
    assert http.get(reverse("publishing:cancel", kwargs={"pk": scheduled.pk})).status_code == 405


# --- who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["outsider", "other_manager"])
def test_someone_off_the_clients_team_can_change_nothing_and_learns_nothing(
    client, request, role, scheduled, tiktok, media, client_obj, preflight
):
    client.force_login(request.getfixturevalue(role))
    pk = scheduled.pk
    attempts = [
        ("get", compose_url(client_obj), {}),
        ("post", compose_url(client_obj), {"action": "schedule", "media": media.pk}),
        ("post", preflight_new_url(client_obj), {}),
        ("get", reverse("publishing:edit", kwargs={"pk": pk}), {}),
        ("post", reverse("publishing:edit", kwargs={"pk": pk}), {"action": "schedule"}),
        ("post", reverse("publishing:preflight", kwargs={"pk": pk}), {}),
        ("post", reverse("publishing:reschedule", kwargs={"pk": pk}), {"date": "2031-07-01"}),
        ("post", reverse("publishing:cancel", kwargs={"pk": pk}), {}),
    ]
    for method, url, data in attempts:
        assert getattr(client, method)(url, data).status_code == 404, (method, url)
    assert CrossPost.objects.count() == 1
    assert PublishTarget.objects.get().state == TargetState.SCHEDULED
    assert not AuditEvent.objects.filter(action__startswith="post.").exists()


@pytest.mark.parametrize("role", ["admin_user", "manager", "staff_member"])
def test_admins_and_the_clients_team_can_compose_and_cancel(
    client, request, role, scheduled, tiktok, media, client_obj, preflight
):
    user = request.getfixturevalue(role)
    client.force_login(user)
    data = submission(client, client_obj, media, tiktok_fields(tiktok))
    assert client.post(compose_url(client_obj), data).status_code == 302
    assert CrossPost.objects.filter(created_by=user).count() == 1
    assert client.post(reverse("publishing:cancel", kwargs={"pk": scheduled.pk})).status_code == 302
    assert scheduled.targets.get().state == TargetState.CANCELLED
