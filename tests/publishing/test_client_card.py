"""The client page's posts card: the next posts, the latest results, the way to the client's
calendar and to a new post, and an empty state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import ClientFactory
from tests.publishing.post_builders import post, signed_in

pytestmark = pytest.mark.django_db


def card(user, client) -> str:
    response = signed_in(user).get(reverse("clients:detail", args=[client.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('<section class="card" id="posts">')
    return html[start : html.index("</section>", start)]


def links_in(html: str, list_id: str) -> list[str]:
    start = html.index(f'id="{list_id}"')
    part = html[start : html.index("</ul>", start)]
    return [chunk.split('"')[0] for chunk in part.split('href="')[1:]]


def url(crosspost) -> str:
    return reverse("publishing:post", args=[crosspost.pk])


def test_it_lists_the_next_five_posts_soonest_first(staff_member, client_obj):
    now = timezone.now()
    later = [post(client_obj, now + timedelta(days=d)) for d in (6, 2, 4, 1, 3, 5)]
    going_out = post(client_obj, now - timedelta(minutes=1), targets={"tiktok": "publishing"})
    post(client_obj, now + timedelta(hours=1), targets={}, draft=True)
    post(client_obj, now + timedelta(hours=2), targets={"tiktok": "cancelled"})
    post(ClientFactory(name="Elsewhere"), now + timedelta(hours=3))

    html = card(staff_member, client_obj)

    expected = [going_out, *sorted(later, key=lambda p: p.scheduled_at)[:4]]
    assert links_in(html, "posts-upcoming") == [url(p) for p in expected]


def test_it_lists_the_latest_five_results_newest_first(staff_member, client_obj):
    now = timezone.now()
    published = post(client_obj, now - timedelta(days=1), targets={"tiktok": "published"})
    failed = post(client_obj, now - timedelta(days=2), targets={"tiktok": "failed"})
    partial = post(
        client_obj,
        now - timedelta(days=3),
        targets={"tiktok": "published", "instagram": "failed"},
    )
    older = [
        post(client_obj, now - timedelta(days=d), targets={"tiktok": "published"})
        for d in (4, 5, 6)
    ]
    post(client_obj, now - timedelta(hours=5), targets={"tiktok": "cancelled"})

    html = card(staff_member, client_obj)

    assert links_in(html, "posts-results") == [url(p) for p in [published, failed, partial]] + [
        url(older[0]),
        url(older[1]),
    ]
    assert "Partially published" in html and "Failed" in html


def test_it_links_the_clients_calendar(staff_member, client_obj):
    post(client_obj, timezone.now() + timedelta(days=1))
    html = card(staff_member, client_obj)
    assert f'href="{reverse("publishing:client_calendar", args=[client_obj.slug])}"' in html


def test_an_archived_client_gets_no_new_post_button(admin_user, client_obj):
    client_obj.status = client_obj.Status.ARCHIVED
    client_obj.save()
    html = card(admin_user, client_obj)
    assert reverse("publishing:compose", args=[client_obj.slug]) not in html
    assert "is archived: it takes no new posts" in html


def test_a_client_without_posts_gets_an_empty_state(staff_member, client_obj):
    post(ClientFactory(name="Elsewhere"), timezone.now() + timedelta(days=1))
    html = card(staff_member, client_obj)
    assert "No posts yet" in html
    assert "posts-upcoming" not in html and "posts-results" not in html


def test_it_shows_times_in_the_clients_zone(admin_user):
    sydney = ClientFactory(name="Harbour Tacos", timezone="Australia/Sydney")
    post(sydney, datetime(2031, 3, 4, 23, 30, tzinfo=UTC))
    assert ">Wed 5 Mar, 10:30</time>" in card(admin_user, sydney)


def test_the_client_page_offers_one_new_post_button(staff_member, client_obj):
    html = signed_in(staff_member).get(reverse("clients:detail", args=[client_obj.slug]))
    compose = reverse("publishing:compose", args=[client_obj.slug])
    assert html.content.decode().count(f'href="{compose}"') == 1
