"""The calendar pages: which posts land on which day in which timezone, the week and month views,
their plain-link navigation, the timezone and state choices, empty states and access."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from apps.publishing import selectors
from apps.publishing.calendar import MONTH, WEEK, calendar_range, parse_query, timezone_choices
from apps.staff.models import Role
from tests.factories import ClientFactory, MembershipFactory, UserFactory
from tests.publishing.post_builders import post, signed_in

pytestmark = pytest.mark.django_db

SYDNEY = ZoneInfo("Australia/Sydney")
LONDON = ZoneInfo("Europe/London")
# A Monday in a week without DST changes anywhere we test.
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def day_cell(html: str, day: str) -> str:
    """The HTML of one day of the grid, found by its <time datetime>."""
    at = html.index(f'<time datetime="{day}"')
    start = html.rindex('<li class="cal-day', 0, at)
    end = html.find('<li class="cal-day', at)
    return html[start : end if end != -1 else html.index("</ol>", at)]


def days_with_posts(response) -> dict[str, list[int]]:
    return {
        d.day.isoformat(): [p.pk for p in d.entries] for d in response.context["days"] if d.entries
    }


@pytest.fixture
def sydney(client_obj):
    client_obj.timezone = "Australia/Sydney"
    client_obj.save()
    return client_obj


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


# The dates themselves (apps/publishing/calendar.py)


def test_a_week_runs_monday_to_sunday_from_local_midnight():
    span = calendar_range(view=WEEK, anchor=date(2025, 3, 5), zone=SYDNEY)
    assert (span.first, span.end) == (date(2025, 3, 3), date(2025, 3, 10))
    assert span.start_utc == utc(2025, 3, 2, 13, 0)  # midnight in Sydney (UTC+11)
    assert span.title == "3 – 9 March 2025"


def test_a_month_shows_the_whole_weeks_its_days_fall_in():
    span = calendar_range(view=MONTH, anchor=date(2025, 3, 17), zone=LONDON)
    assert (span.first, span.end) == (date(2025, 2, 24), date(2025, 4, 7))
    assert span.previous_anchor == date(2025, 2, 1)
    assert span.next_anchor == date(2025, 4, 1)
    assert span.title == "March 2025"


def test_a_week_over_a_dst_change_is_an_hour_shorter_or_longer():
    spring = calendar_range(view=WEEK, anchor=date(2025, 3, 30), zone=LONDON)  # clocks forward
    autumn = calendar_range(view=WEEK, anchor=date(2025, 4, 6), zone=SYDNEY)  # clocks back
    assert spring.end_utc - spring.start_utc == timedelta(hours=167)
    assert autumn.end_utc - autumn.start_utc == timedelta(hours=169)


def test_it_ignores_parameters_it_does_not_know():
    choices = timezone_choices(agency_zone="UTC", client_zone="Australia/Sydney")
    query = parse_query(
        {"view": "year", "date": "3025-01-01", "tz": "Europe/Paris"}, choices=choices, now=NOW
    )
    assert (query.view, query.anchor, query.tz.value) == (WEEK, date(2025, 3, 3), "client")
    query = parse_query({"date": "not-a-date", "tz": "mine"}, choices=choices, now=NOW)
    assert (query.anchor, query.tz.zone) == (date(2025, 3, 3), "UTC")


def test_today_is_the_date_in_the_chosen_timezone():
    late = datetime(2025, 3, 3, 22, 0, tzinfo=UTC)  # already Tuesday in Sydney
    choices = timezone_choices(agency_zone="UTC", client_zone="Australia/Sydney")
    assert parse_query({}, choices=choices, now=late).today == date(2025, 3, 4)
    assert parse_query({"tz": "mine"}, choices=choices, now=late).today == date(2025, 3, 3)


def test_mine_is_the_viewers_zone_or_else_the_agencys_and_says_which():
    mine = timezone_choices(agency_zone="Europe/London", viewer_zone="Australia/Sydney")[0]
    assert (mine.value, mine.label, mine.zone) == (
        "mine",
        "My time (Australia/Sydney)",
        "Australia/Sydney",
    )
    # Blank, or a name tzdata no longer knows: the agency's zone, labelled as the default.
    for viewer_zone in ("", "Mars/Olympus_Mons"):
        mine = timezone_choices(agency_zone="Europe/London", viewer_zone=viewer_zone)[0]
        assert (mine.label, mine.zone) == (
            "My time (agency default, Europe/London)",
            "Europe/London",
        )


# Placement on the page


def test_a_post_late_in_utc_shows_on_the_next_day_in_sydney_time(admin_user, sydney):
    late = post(sydney, utc(2025, 3, 3, 23, 30))  # 10:30 on Tuesday in Sydney
    http = signed_in(admin_user)
    url = reverse("publishing:client_calendar", args=[sydney.slug])

    response = http.get(url)
    assert days_with_posts(response) == {"2025-03-04": [late.pk]}
    cell = day_cell(response.content.decode(), "2025-03-04")
    assert reverse("publishing:post", args=[late.pk]) in cell
    assert ">10:30</time>" in cell

    response = http.get(url, {"tz": "mine"})  # the admin has no zone: the agency's, UTC
    assert days_with_posts(response) == {"2025-03-03": [late.pk]}
    assert ">23:30</time>" in day_cell(response.content.decode(), "2025-03-03")


def test_it_places_posts_by_local_day_across_a_dst_change(admin_user, sydney):
    # Sydney leaves daylight time at 03:00 on Sunday 6 April 2025 (UTC+11 -> UTC+10).
    sunday_early = post(sydney, utc(2025, 4, 5, 13, 30))  # Sun 00:30 (+11)
    sunday_late = post(sydney, utc(2025, 4, 6, 13, 30))  # Sun 23:30 (+10)
    monday = post(sydney, utc(2025, 4, 6, 14, 30))  # Mon 7 April 00:30 (+10): next week
    saturday = post(sydney, utc(2025, 4, 5, 12, 30))  # Sat 23:30 (+11)
    http = signed_in(admin_user)
    url = reverse("publishing:client_calendar", args=[sydney.slug])

    response = http.get(url, {"date": "2025-04-02"})
    assert days_with_posts(response) == {
        "2025-04-05": [saturday.pk],
        "2025-04-06": [sunday_early.pk, sunday_late.pk],
    }
    sunday = day_cell(response.content.decode(), "2025-04-06")
    assert ">00:30</time>" in sunday and ">23:30</time>" in sunday

    response = http.get(url, {"date": "2025-04-07"})
    assert days_with_posts(response) == {"2025-04-07": [monday.pk]}


def test_the_month_view_places_posts_and_sends_a_crowded_day_to_its_week(admin_user, client_obj):
    busy = [post(client_obj, utc(2025, 3, 12, 9, minute)) for minute in range(6)]
    other = post(client_obj, utc(2025, 3, 28, 18, 0))
    http = signed_in(admin_user)

    response = http.get(
        reverse("publishing:client_calendar", args=[client_obj.slug]), {"view": "month"}
    )

    html = response.content.decode()
    assert days_with_posts(response) == {
        "2025-03-12": [p.pk for p in busy],
        "2025-03-28": [other.pk],
    }
    cell = day_cell(html, "2025-03-12")
    assert cell.count('class="cal-post ') == 4
    assert "2 more" in cell
    assert 'href="?date=2025-03-12"' in cell  # the week of that day (week is the default view)
    assert 'class="cal cal-month"' in html
    assert len(response.context["days"]) == 42  # 24 Feb to 6 April
    assert "cal-day--outside" in day_cell(html, "2025-02-24")


def test_it_shows_drafts_with_a_time_as_drafts_and_leaves_out_those_without(admin_user, client_obj):
    dated = post(client_obj, utc(2025, 3, 4, 10, 0), targets={}, draft=True)
    undated = post(client_obj, None, targets={}, draft=True)

    response = signed_in(admin_user).get(reverse("publishing:calendar"))

    html = response.content.decode()
    assert days_with_posts(response) == {"2025-03-04": [dated.pk]}
    assert 'class="cal-post cal-post--draft"' in day_cell(html, "2025-03-04")
    assert reverse("publishing:post", args=[undated.pk]) not in html


def test_each_post_shows_its_state_accounts_poster_frame_and_client(admin_user, client_obj):
    published = post(client_obj, utc(2025, 3, 4, 8, 0), targets={"tiktok": "published"})
    failed = post(client_obj, utc(2025, 3, 4, 9, 0), targets={"tiktok": "failed"})
    both = post(
        client_obj,
        utc(2025, 3, 5, 8, 0),
        targets={"tiktok": "scheduled", "instagram": "scheduled"},
    )
    both.media.poster = "posters/x.jpg"
    both.media.save()

    html = signed_in(admin_user).get(reverse("publishing:calendar")).content.decode()

    tuesday = day_cell(html, "2025-03-04")
    assert 'cal-post--published"' in tuesday and ">Published</span>" in tuesday
    assert 'cal-post--failed"' in tuesday and ">Failed</span>" in tuesday
    assert "Northwind Coffee" in tuesday  # all clients: each post names its client
    wednesday = day_cell(html, "2025-03-05")
    assert "TikTok @northwind-coffee.tiktok" in wednesday
    assert "Instagram @northwind-coffee.instagram" in wednesday
    poster = reverse("publishing:media_poster", args=[both.media_id])
    assert f'src="{poster}"' in wednesday
    assert reverse("publishing:media_poster", args=[failed.media_id]) not in tuesday
    assert published.pk != failed.pk


def test_the_state_filter_shows_only_posts_in_that_state(admin_user, client_obj):
    kept = post(client_obj, utc(2025, 3, 4, 8, 0), targets={"tiktok": "failed"})
    post(client_obj, utc(2025, 3, 4, 9, 0))

    response = signed_in(admin_user).get(reverse("publishing:calendar"), {"status": "failed"})

    assert days_with_posts(response) == {"2025-03-04": [kept.pk]}
    assert '<option value="failed" selected>' in response.content.decode()


def test_a_viewer_in_sydney_sees_a_post_on_their_local_day(staff_member, client_obj):
    staff_member.timezone = "Australia/Sydney"
    staff_member.save()
    late = post(client_obj, utc(2025, 3, 3, 23, 30))  # 10:30 on Tuesday in Sydney (UTC+11)

    response = signed_in(staff_member).get(reverse("publishing:calendar"))

    assert response.context["query"].tz.value == "mine"
    assert days_with_posts(response) == {"2025-03-04": [late.pk]}
    html = response.content.decode()
    assert ">10:30</time>" in day_cell(html, "2025-03-04")
    assert '<option value="mine" selected>My time (Australia/Sydney)</option>' in html


def test_a_viewer_without_a_zone_gets_the_agencys(settings, staff_member, client_obj):
    settings.TIME_ZONE = "America/New_York"
    early = post(client_obj, utc(2025, 3, 4, 3, 0))  # 22:00 on Monday in New York (UTC-5)

    response = signed_in(staff_member).get(reverse("publishing:calendar"))

    assert response.context["query"].tz.zone == "America/New_York"
    assert days_with_posts(response) == {"2025-03-03": [early.pk]}
    html = response.content.decode()
    assert ">22:00</time>" in day_cell(html, "2025-03-03")
    assert "My time (agency default, America/New York)" in html


# Navigation, choices and empty states


def test_navigation_is_plain_links_that_keep_view_timezone_and_state(admin_user, sydney):
    response = signed_in(admin_user).get(
        reverse("publishing:client_calendar", args=[sydney.slug]),
        {"view": "month", "date": "2025-03-17", "tz": "mine", "status": "scheduled"},
    )
    links = response.context["links"]
    assert links["previous"] == "?view=month&date=2025-02-01&tz=mine&status=scheduled"
    assert links["next"] == "?view=month&date=2025-04-01&tz=mine&status=scheduled"
    assert links["today"] == "?view=month&tz=mine&status=scheduled"
    assert links["week"] == "?date=2025-03-17&tz=mine&status=scheduled"
    html = response.content.decode()
    for href in links.values():
        assert f'href="{href.replace("&", "&amp;")}"' in html
    assert re.search(r'<a href="[^"]*view=month[^"]*" aria-current="page">Month</a>', html)


def test_week_navigation_moves_by_seven_days(admin_user):
    response = signed_in(admin_user).get(reverse("publishing:calendar"), {"date": "2025-03-05"})
    assert response.context["links"]["previous"] == "?date=2025-02-24"
    assert response.context["links"]["next"] == "?date=2025-03-10"
    assert response.context["span"].title == "3 – 9 March 2025"


def test_all_clients_offer_my_time_and_the_zones_of_visible_clients(staff_member, sydney):
    tokyo = ClientFactory(name="Kumo Ramen", timezone="Asia/Tokyo")
    MembershipFactory(client=tokyo, user=staff_member)
    ClientFactory(name="Hidden", timezone="America/Lima")  # not on this person's team
    http = signed_in(staff_member)

    response = http.get(reverse("publishing:calendar"))
    assert [c.value for c in response.context["tz_choices"]] == [
        "mine",
        "Asia/Tokyo",
        "Australia/Sydney",
    ]
    assert response.context["query"].tz.zone == "UTC"
    assert "My time (agency default, UTC)" in response.content.decode()
    assert "America/Lima" not in response.content.decode()

    assert http.get(reverse("publishing:calendar"), {"tz": "Asia/Tokyo"}).context[
        "query"
    ].tz.zone == ("Asia/Tokyo")
    # A zone the viewer was not offered is the default, not an error.
    response = http.get(reverse("publishing:calendar"), {"tz": "America/Lima"})
    assert response.status_code == 200 and response.context["query"].tz.value == "mine"


def test_a_viewers_own_zone_is_not_offered_twice(staff_member, sydney):
    tokyo = ClientFactory(name="Kumo Ramen", timezone="Asia/Tokyo")
    MembershipFactory(client=tokyo, user=staff_member)
    staff_member.timezone = "Australia/Sydney"
    staff_member.save()

    response = signed_in(staff_member).get(reverse("publishing:calendar"))

    assert [(c.value, c.zone) for c in response.context["tz_choices"]] == [
        ("mine", "Australia/Sydney"),
        ("Asia/Tokyo", "Asia/Tokyo"),
    ]


def test_one_clients_calendar_defaults_to_client_time(admin_user, sydney):
    admin_user.timezone = "Europe/Berlin"
    admin_user.save()
    response = signed_in(admin_user).get(reverse("publishing:client_calendar", args=[sydney.slug]))
    assert [c.value for c in response.context["tz_choices"]] == ["client", "mine"]
    assert response.context["query"].tz.zone == "Australia/Sydney"
    html = response.content.decode()
    assert "Client time (Australia/Sydney)" in html
    assert "My time (Europe/Berlin)" in html


def test_an_empty_week_says_so(admin_user, client_obj):
    post(client_obj, utc(2025, 3, 20, 9, 0))  # another week

    response = signed_in(admin_user).get(
        reverse("publishing:client_calendar", args=[client_obj.slug])
    )

    html = response.content.decode()
    assert "No posts in 3 – 9 March 2025" in html
    assert "cal-days" not in html
    assert reverse("publishing:compose", args=[client_obj.slug]) in html


def test_an_archived_clients_calendar_offers_no_new_post(admin_user, client_obj):
    client_obj.status = client_obj.Status.ARCHIVED
    client_obj.save()
    response = signed_in(admin_user).get(
        reverse("publishing:client_calendar", args=[client_obj.slug])
    )
    assert reverse("publishing:compose", args=[client_obj.slug]) not in response.content.decode()


def test_a_crowded_range_shows_the_first_posts_and_says_so(admin_user, client_obj, monkeypatch):
    monkeypatch.setattr(selectors, "CALENDAR_MAX_POSTS", 3)
    posts = [post(client_obj, utc(2025, 3, 4, 9, minute)) for minute in range(4)]

    response = signed_in(admin_user).get(reverse("publishing:calendar"))

    assert days_with_posts(response) == {"2025-03-04": [p.pk for p in posts[:3]]}
    assert "More than 3 posts fall in this week" in response.content.decode()


def test_the_nav_has_a_calendar_link_marked_current_on_the_calendar(staff_member):
    html = signed_in(staff_member).get(reverse("publishing:calendar")).content.decode()
    assert '<a href="/calendar/" aria-current="page">Calendar</a>' in html
    html = signed_in(staff_member).get("/").content.decode()
    assert '<a href="/calendar/" >Calendar</a>' in html


# Access


def test_the_all_clients_calendar_shows_only_clients_the_viewer_sees(
    staff_member, other_manager, admin_user, client_obj
):
    mine = post(client_obj, utc(2025, 3, 4, 9, 0))
    elsewhere = post(ClientFactory(name="Elsewhere"), utc(2025, 3, 4, 10, 0))
    managed = post(ClientFactory(name="Managed", account_manager=other_manager), utc(2025, 3, 5, 9))

    def shown(user) -> set[int]:
        response = signed_in(user).get(reverse("publishing:calendar"))
        return {pk for pks in days_with_posts(response).values() for pk in pks}

    assert shown(staff_member) == {mine.pk}
    assert shown(other_manager) == {managed.pk}  # manages it without being on its team
    assert shown(admin_user) == {mine.pk, elsewhere.pk, managed.pk}
    assert shown(UserFactory(role=Role.STAFF)) == set()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin_user", 200),
        ("manager", 200),
        ("staff_member", 200),
        ("outsider", 404),
        ("other_manager", 404),
    ],
)
def test_one_clients_calendar_is_for_those_who_see_the_client(request, client_obj, role, status):
    post(client_obj, utc(2025, 3, 4, 9, 0))
    user = request.getfixturevalue(role)
    response = signed_in(user).get(reverse("publishing:client_calendar", args=[client_obj.slug]))
    assert response.status_code == status


def test_the_calendars_send_anonymous_visitors_to_sign_in(client, client_obj):
    for url in (
        reverse("publishing:calendar"),
        reverse("publishing:client_calendar", args=[client_obj.slug]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
