"""The post page's accounts section while a post goes out: each account's platform calls in
people's words (PublishAttempt rows), the upload's progress, the way out of a failure, and the
poll that keeps the section live only while something may still move."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.connections.models import State
from apps.publishing.lifecycle import target_transition
from apps.publishing.models import PublishAttempt
from apps.publishing.notifications import notify_target_problem
from tests.factories import PublishAttemptFactory
from tests.publishing.post_builders import post, signed_in, target

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # 10:00 in Paris
Outcome = PublishAttempt.Outcome


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def paris(client_obj):
    client_obj.timezone = "Europe/Paris"
    client_obj.save()
    return client_obj


def page(user, crosspost) -> str:
    response = signed_in(user).get(reverse("publishing:post", args=[crosspost.pk]))
    assert response.status_code == 200
    return response.content.decode()


def fragment(user, crosspost) -> str:
    response = signed_in(user).get(reverse("publishing:post_targets", args=[crosspost.pk]))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str) -> str:
    start = html.index('<section class="card" id="targets"')
    return html[start : html.index("</section>", start) + len("</section>")]


def opening_tag(html: str) -> str:
    return html[: html.index(">") + 1]


def timeline_of(html: str, target) -> list[str]:
    """Each timeline entry of `target` as its text, whitespace collapsed."""
    start = html.index(f'id="attempts-{target.pk}"')
    timeline = html[start : html.index("</ol>", start)]
    items = re.findall(r'<li class="attempt[^"]*"[^>]*>(.*?)</li>', timeline, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def at(minutes: float) -> datetime:
    return NOW - timedelta(minutes=10) + timedelta(minutes=minutes)


def test_the_timeline_lists_each_call_in_order_in_peoples_words(admin_user, paris):
    crosspost = post(paris, NOW - timedelta(minutes=10), targets={"tiktok": "failed"})
    tiktok = target(crosspost, "tiktok")
    # Made out of order: the page orders by when each call started.
    PublishAttemptFactory(
        target=tiktok,
        step="init",
        started_at=at(1),
        outcome=Outcome.PERMANENT,
        category="content",
        http_status=400,
        error_code="spam_risk_too_many_posts",
        message="The user has posted too many times today.",
        duration_ms=812,
    )
    PublishAttemptFactory(target=tiktok, step="creator_info", started_at=at(0), duration_ms=95)

    entries = timeline_of(page(admin_user, crosspost), tiktok)

    assert entries == [
        "Asked TikTok what the account may post Succeeded 3 Mar, 09:50:00 · took 95 ms",
        "Started the upload with TikTok Failed "
        "TikTok said: “The user has posted too many times today.” "
        "3 Mar, 09:51:00 · took 812 ms · HTTP 400 · code spam_risk_too_many_posts",
    ]


def test_identical_calls_in_a_row_read_as_one_entry_with_their_count(admin_user, paris):
    crosspost = post(paris, NOW - timedelta(minutes=10), targets={"tiktok": "processing"})
    tiktok = target(crosspost, "tiktok")
    PublishAttemptFactory(target=tiktok, step="init", started_at=at(0), duration_ms=300)
    for i in range(3):
        PublishAttemptFactory(
            target=tiktok, step="upload_chunk", started_at=at(1 + i / 10), duration_ms=20_000
        )
    for i in range(12):
        PublishAttemptFactory(
            target=tiktok, step="status", started_at=at(2 + i / 6), duration_ms=150
        )
    PublishAttemptFactory(
        target=tiktok,
        step="status",
        started_at=at(5),
        outcome=Outcome.TRANSIENT,
        http_status=503,
        message="Service unavailable",
        duration_ms=30_000,
    )

    entries = timeline_of(page(admin_user, crosspost), tiktok)

    assert entries == [
        "Started the upload with TikTok Succeeded 3 Mar, 09:50:00 · took 300 ms",
        "Sent the video to TikTok (3 times) Succeeded 3 Mar, 09:51:00 · took 1 min",
        "Asked TikTok how processing is going (12 times) Succeeded 3 Mar, 09:52:00 · took 1.8 s",
        "Asked TikTok how processing is going Failed, will retry "
        "TikTok said: “Service unavailable” 3 Mar, 09:55:00 · took 30.0 s · HTTP 503",
    ]


def test_a_call_still_under_way_says_so(admin_user, client_obj):
    crosspost = post(client_obj, NOW, targets={"instagram": "publishing"})
    instagram = target(crosspost, "instagram")
    PublishAttemptFactory(
        target=instagram, step="container", outcome="", finished_at=None, duration_ms=None
    )
    [entry] = timeline_of(page(admin_user, crosspost), instagram)
    assert entry.startswith("Gave Instagram the video to fetch In progress")
    assert "took" not in entry


def test_an_account_without_calls_says_nothing_went_out_yet(admin_user, client_obj):
    crosspost = post(client_obj, NOW + timedelta(days=1))
    html = section(page(admin_user, crosspost))
    assert "Nothing sent to TikTok yet." in html
    assert '<ol class="timeline' not in html


def test_the_upload_shows_its_progress_while_the_bytes_go_out(admin_user, client_obj):
    crosspost = post(client_obj, NOW, targets={"tiktok": "publishing", "instagram": "publishing"})
    tiktok = target(crosspost, "tiktok")
    tiktok.checkpoint = {
        "publish_id": "v_pub_file~1",
        "uploaded_bytes": 10_000_000,
        "total_bytes": 40_000_000,
    }
    tiktok.save()

    html = section(page(admin_user, crosspost))

    assert f'<progress id="upload-{tiktok.pk}" max="40000000" value="10000000">25%</progress>' in (
        html
    )
    assert "Sending the video to TikTok: 10.0 MB of 40.0 MB (25%)" in html
    assert html.count("<progress") == 1  # Instagram fetches the video itself: no bar


@pytest.mark.parametrize(
    ("state", "checkpoint"),
    [
        ("publishing", {"uploaded_bytes": 40_000_000, "total_bytes": 40_000_000}),  # all sent
        ("publishing", {"publish_id": "v_pub_file~1"}),  # not started
        ("processing", {"uploaded_bytes": 10, "total_bytes": 40}),  # over
        ("publishing", {"uploaded_bytes": "10", "total_bytes": 0}),  # nonsense
    ],
)
def test_no_progress_bar_outside_the_upload(admin_user, client_obj, state, checkpoint):
    crosspost = post(client_obj, NOW, targets={"tiktok": state})
    tiktok = target(crosspost, "tiktok")
    tiktok.checkpoint = checkpoint
    tiktok.save()
    assert "<progress" not in page(admin_user, crosspost)


def test_a_target_waiting_to_retry_says_when(admin_user, paris):
    crosspost = post(paris, NOW, targets={"instagram": "retry_wait"})
    instagram = target(crosspost, "instagram")
    instagram.next_attempt_at = NOW + timedelta(minutes=4)
    instagram.save()
    assert "Trying again at" in page(admin_user, crosspost)
    assert "3 Mar, 10:04</time> (Europe/Paris)" in page(admin_user, crosspost)


@pytest.mark.parametrize(
    ("states", "due_in", "live"),
    [
        ({"tiktok": "dispatched"}, None, True),
        ({"tiktok": "publishing"}, None, True),
        ({"tiktok": "processing", "instagram": "published"}, None, True),
        ({"instagram": "retry_wait"}, None, True),
        ({"tiktok": "scheduled"}, timedelta(minutes=-1), True),  # due, not picked up yet
        ({"tiktok": "scheduled"}, timedelta(minutes=5), True),  # about to go
        ({"tiktok": "scheduled"}, timedelta(hours=3), False),
        ({"tiktok": "published", "instagram": "cancelled"}, None, False),
        ({"tiktok": "failed", "instagram": "unconfirmed"}, None, False),
        ({}, None, False),
    ],
)
def test_the_section_polls_only_while_an_account_may_move(
    admin_user, client_obj, states, due_in, live
):
    crosspost = post(client_obj, NOW + (due_in or timedelta(0)), targets=states)

    for html in (page(admin_user, crosspost), fragment(admin_user, crosspost)):
        tag = opening_tag(section(html))
        url = reverse("publishing:post_targets", args=[crosspost.pk])
        assert (f'hx-get="{url}"' in tag) is live
        assert ('hx-trigger="poll"' in tag) is live
        assert ('data-poll="3000" data-poll-max="30000"' in tag) is live
        assert ("Updates by itself" in section(html)) is live


def test_the_poll_interval_comes_from_the_settings(admin_user, client_obj, settings):
    settings.POST_POLL_INTERVAL = 0.5
    settings.POST_POLL_MAX_INTERVAL = 4
    crosspost = post(client_obj, NOW, targets={"tiktok": "dispatched"})
    assert 'data-poll="500" data-poll-max="4000"' in page(admin_user, crosspost)


def test_the_fragment_is_the_section_with_the_posts_status_and_a_summary(admin_user, client_obj):
    crosspost = post(client_obj, NOW, targets={"tiktok": "publishing", "instagram": "published"})
    # The stored status lags; the page shows what the targets say now.
    crosspost.status = "scheduled"
    crosspost.save()

    html = fragment(admin_user, crosspost)

    assert html.lstrip().startswith('<section class="card" id="targets"')
    assert "<html" not in html and "Preview" not in html
    assert (
        '<span class="badge badge-info" id="post-status" hx-swap-oob="true">Publishing</span>'
        in html
    )
    assert re.search(
        r'<p class="sr-only" id="targets-status" hx-swap-oob="innerHTML">'
        r"@northwind-coffee.instagram on Instagram: Published; "
        r"@northwind-coffee.tiktok on TikTok: Publishing</p>",
        html,
    )
    # The page's own header shows the same.
    assert 'id="post-status">Publishing</span>' in page(admin_user, crosspost)


@pytest.mark.parametrize(("state", "actions"), [("dispatched", True), ("publishing", False)])
def test_the_fragment_brings_the_headers_actions_along(admin_user, client_obj, state, actions):
    crosspost = post(client_obj, NOW, targets={"tiktok": state})

    html = fragment(admin_user, crosspost)

    start = html.index('<div class="page-actions" id="post-actions" hx-swap-oob="true">')
    header = html[start : html.index("</div>", start)]
    assert (reverse("publishing:cancel", args=[crosspost.pk]) in header) is actions
    assert (reverse("publishing:reschedule", args=[crosspost.pk]) in header) is actions


def test_a_failed_account_offers_a_retry_with_a_question(staff_member, client_obj):
    crosspost = post(client_obj, NOW, targets={"tiktok": "failed", "instagram": "published"})
    tiktok = target(crosspost, "tiktok")

    html = section(page(staff_member, crosspost))

    retry = reverse("publishing:target_retry", args=[tiktok.pk])
    assert re.search(
        rf'<div class="target-decide" id="retry-{tiktok.pk}" hx-preserve="true">\s*'
        rf'<form method="post" action="{retry}" data-confirm="Publish this to '
        r'@northwind-coffee.tiktok on TikTok again now\?">',
        html,
    )
    assert ">Retry now</button>" in html
    assert html.count(">Retry now</button>") == 1  # not for the published one


def test_a_failed_account_that_cant_publish_says_what_to_fix_instead(admin_user, client_obj):
    crosspost = post(client_obj, NOW, targets={"tiktok": "failed"})
    account = target(crosspost, "tiktok").linked_account
    account.state = State.NEEDS_RECONNECT
    account.state_reason = "TikTok ended the session."
    account.save()

    html = section(page(admin_user, crosspost))

    assert "Retry now" not in html
    assert "To retry: Needs reconnect: TikTok ended the session." in html


def test_an_archived_clients_failure_offers_no_retry(admin_user, client_obj):
    crosspost = post(client_obj, NOW, targets={"tiktok": "failed"})
    client_obj.status = client_obj.Status.ARCHIVED
    client_obj.save()
    html = section(page(admin_user, crosspost))
    assert "Retry now" not in html
    assert "To retry: The client is archived." in html


def test_an_unconfirmed_account_asks_a_person_to_look_at_the_profile_first(
    manager, client_obj, settings
):
    settings.PLATFORM_BASE_URLS = {
        **settings.PLATFORM_BASE_URLS,
        "tiktok_auth": "https://www.tiktok.com",
    }
    crosspost = post(client_obj, NOW, targets={"tiktok": "unconfirmed"})
    tiktok = target(crosspost, "tiktok")

    html = section(page(manager, crosspost))

    box = html[html.index(f'id="decide-{tiktok.pk}"') :]
    assert opening_tag(box).endswith('hx-preserve="true">')
    assert "Nobody can tell whether TikTok published this." in box
    assert (
        '<a href="https://www.tiktok.com/@northwind-coffee.tiktok" target="_blank" '
        'rel="noopener noreferrer">@northwind-coffee.tiktok\'s profile on TikTok</a>'
    ) in box
    assert f'action="{reverse("publishing:target_confirm", args=[tiktok.pk])}"' in box
    checkbox = rf'<input type="checkbox" name="t{tiktok.pk}-checked_profile"[^>]* required'
    assert re.search(checkbox, box)
    assert f'<input type="url" name="t{tiktok.pk}-permalink"' in box
    assert f'name="t{tiktok.pk}-decision" value="found"' in box
    assert re.search(
        rf'name="t{tiktok.pk}-decision" value="missing" class="button" data-confirm="Publish '
        r"this again to @northwind-coffee.tiktok on TikTok\? Only if it is not on the profile",
        box,
    )
    assert "Retry now" not in html  # no blind retry of an unknown outcome


def test_an_unconfirmed_account_that_cant_publish_can_still_be_found(admin_user, client_obj):
    crosspost = post(client_obj, NOW, targets={"tiktok": "unconfirmed"})
    account = target(crosspost, "tiktok").linked_account
    account.state = State.REVOKED_ON_PLATFORM
    account.save()

    html = section(page(admin_user, crosspost))

    assert 'value="found"' in html
    assert 'value="missing"' not in html
    assert "It can't be published again now: Revoked on platform" in html


def test_the_section_costs_the_same_queries_with_5_or_500_calls(admin_user, client_obj):
    crosspost = post(client_obj, NOW, targets={"tiktok": "processing", "instagram": "failed"})
    http = signed_in(admin_user)
    url = reverse("publishing:post_targets", args=[crosspost.pk])
    http.get(url)  # warm the session

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert http.get(url).status_code == 200
        return len(ctx.captured_queries)

    for t in crosspost.targets.all():
        for i in range(3):
            PublishAttemptFactory(target=t, step="status", started_at=at(i))
    few = count()
    PublishAttempt.objects.bulk_create(
        PublishAttempt(
            target=t, step="status", started_at=at(3 + i / 100), outcome=Outcome.OK, finished_at=NOW
        )
        for t in crosspost.targets.all()
        for i in range(250)
    )
    many = count()
    assert few == many <= 8


@pytest.mark.parametrize(
    ("state", "explains"),
    [
        ("failed", ["TikTok refused it", "Retry now"]),
        ("unconfirmed", ["TikTok refused it", "Nobody can tell whether TikTok published this."]),
    ],
)
def test_the_managers_email_leads_to_a_page_that_explains(
    manager, client_obj, settings, django_capture_on_commit_callbacks, state, explains
):
    crosspost = post(client_obj, NOW, targets={"tiktok": "publishing"})
    tiktok = target(crosspost, "tiktok")
    target_transition(target=tiktok, to=state, reason="TikTok refused it")
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_target_problem(target_id=tiktok.pk)

    [email] = mail.outbox
    url = re.search(rf"{re.escape(settings.PUBLIC_BASE_URL)}(/\S+)", email.body)
    assert url and url[1] == reverse("publishing:post", args=[crosspost.pk]), email.body
    html = page(manager, crosspost)
    for words in explains:
        assert words in html
