"""The dashboard's "due in the next 24 hours": scheduled posts of the clients the viewer sees
whose time is in [now, now + 24 h), soonest first, at most ten, with a way to the calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from apps.publishing.selectors import posts_due_soon
from tests.factories import ClientFactory
from tests.publishing.post_builders import post, signed_in

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def section(user) -> tuple[str, list[int]]:
    response = signed_in(user).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('<section class="card" id="due-soon">')
    return html[start : html.index("</section>", start)], [
        p.pk for p in response.context["due_soon"].posts
    ]


def test_it_lists_scheduled_posts_of_the_next_24_hours_soonest_first(staff_member, client_obj):
    later = post(client_obj, NOW + timedelta(hours=23, minutes=59))
    now = post(client_obj, NOW)
    soon = post(client_obj, NOW + timedelta(hours=2))
    post(client_obj, NOW + timedelta(hours=24))  # tomorrow's
    post(client_obj, NOW - timedelta(minutes=1))  # already due
    post(client_obj, NOW + timedelta(hours=3), targets={"tiktok": "cancelled"})
    post(client_obj, NOW + timedelta(hours=3), targets={}, draft=True)
    post(client_obj, NOW + timedelta(hours=4), targets={"tiktok": "failed"})

    html, shown = section(staff_member)

    assert shown == [now.pk, soon.pk, later.pk]
    assert html.index(reverse("publishing:post", args=[now.pk])) < html.index(
        reverse("publishing:post", args=[later.pk])
    )
    assert "Northwind Coffee" in html
    assert f'href="{reverse("publishing:calendar")}"' in html


def test_it_shows_only_the_clients_the_viewer_sees(staff_member, admin_user, client_obj):
    mine = post(client_obj, NOW + timedelta(hours=1))
    theirs = post(ClientFactory(name="Elsewhere"), NOW + timedelta(hours=2))

    assert section(staff_member)[1] == [mine.pk]
    assert section(admin_user)[1] == [mine.pk, theirs.pk]


def test_it_shows_ten_and_sends_the_rest_to_the_calendar(staff_member, client_obj):
    posts = [post(client_obj, NOW + timedelta(minutes=10 * i + 1)) for i in range(11)]

    html, shown = section(staff_member)

    assert shown == [p.pk for p in posts[:10]]
    assert "The next 10 are shown; the calendar has the rest." in html


def test_it_says_when_nothing_is_due(staff_member, client_obj):
    post(client_obj, NOW + timedelta(days=2))
    html, shown = section(staff_member)
    assert shown == []
    assert "Nothing due in the next 24 hours" in html


def test_it_shows_each_time_in_its_clients_zone(admin_user):
    tokyo = ClientFactory(name="Kumo Ramen", timezone="Asia/Tokyo")
    post(tokyo, NOW + timedelta(hours=1))  # 19:00 in Tokyo
    html, _ = section(admin_user)
    assert ">Mon 3 Mar, 19:00</time>" in html and "Asia/Tokyo" in html


def test_it_reads_visibility_as_a_subquery(staff_member, client_obj, django_assert_num_queries):
    post(client_obj, NOW + timedelta(hours=1))
    with django_assert_num_queries(2) as ctx:  # the posts, then their targets
        posts_due_soon(user=staff_member)
    sql = ctx.captured_queries[0]["sql"]
    assert "clients_clientmembership" in sql  # visibility joined in the database, not in Python
    assert '"publishing_crosspost"."status" = ' in sql
