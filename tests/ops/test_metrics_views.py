"""`/metrics` answers only the bearer token from METRICS_TOKEN, never from a cache; `/ops/` is
the admins' readable view of the same numbers, with what is stuck."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse
from django_q.brokers import get_broker

from tests.ops.metrics_seed import NOW, parse, seed, value
from tests.staff.helpers import signed_in

pytestmark = pytest.mark.django_db

TOKEN = "k7Jd0-metrics-token-for-tests"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def test_metrics_lives_at_the_root():
    assert reverse("metrics") == "/metrics"


def test_without_a_configured_token_there_are_no_metrics(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer wrong-token",
        f"Basic {TOKEN}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
    ],
)
def test_a_wrong_or_missing_token_is_unauthorized(client, token, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = client.get("/metrics", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert "switchboard_" not in response.content.decode()


def test_a_signed_in_admin_without_the_token_gets_nothing_either(admin_user, token):
    assert signed_in(admin_user, reauthenticated=False).get("/metrics").status_code == 401


def test_the_token_gets_prometheus_text_never_cached(client, token):
    seed()
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    found = parse(response.content.decode())
    assert value(found, "switchboard_due_not_dispatched") == 3
    assert "Set-Cookie" not in response  # no session for a scraper


def test_the_scheme_is_case_insensitive(client, token):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"bearer {token}")
    assert response.status_code == 200


def test_metrics_are_read_only(client, token):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 405


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin_user", 200),
        ("manager", 404),
        ("staff_member", 404),
        ("other_manager", 404),
    ],
)
def test_the_operations_page_is_for_admins(request, role, status):
    response = signed_in(request.getfixturevalue(role), reauthenticated=False).get("/ops/")
    assert response.status_code == status
    if status == 404:
        assert "Tasks waiting" not in response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/ops/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_only_admins_see_the_link_to_it(admin_user, manager):
    link = 'href="/ops/"'
    assert link in signed_in(admin_user, reauthenticated=False).get("/").content.decode()
    assert link not in signed_in(manager, reauthenticated=False).get("/").content.decode()


def text_of(html: str, element_id: str) -> str:
    """The words of the element with `element_id` (a section, or one of the stat boxes)."""
    start = html.rindex("<", 0, html.index(f'id="{element_id}"'))
    closing = "</section>" if html.startswith("<section", start) else "</div></div>"
    chunk = html[start : html.index(closing, start)]
    return " ".join(re.sub(r"<[^>]+>", " ", chunk).split())


def test_the_operations_page_shows_the_numbers_and_what_is_stuck(admin_user):
    seeded = seed()
    response = signed_in(admin_user, reauthenticated=False).get("/ops/")
    html = response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")

    assert text_of(html, "stat-overdue").startswith("3 Due, not dispatched")
    assert text_of(html, "stat-lease").startswith("2 Past their lease")
    broker = type(get_broker()).__name__
    assert text_of(html, "stat-queue").endswith(f"Tasks waiting ({broker})")

    dispatch = text_of(html, "dispatch")
    assert "Dispatched in the last hour 4" in dispatch
    assert "Lag, p50 2.0 s" in dispatch and "Lag, p99 30.0 s" in dispatch
    oldest = seeded.oldest_due
    assert f'href="{reverse("publishing:post", args=[oldest.crosspost_id])}"' in html
    assert "TikTok @tt Scheduled due 3 Mar, 08:55:00 UTC , waiting 300 s" in dispatch

    stuck = text_of(html, "past-lease")
    for target in seeded.past_lease:
        assert reverse("publishing:post", args=[target.crosspost_id]) in html
    assert "Dispatched · lease ended 3 Mar, 08:59:00 UTC" in stuck
    assert "Publishing · lease ended 3 Mar, 08:59:50 UTC" in stuck

    calls = text_of(html, "outcomes")
    assert "Succeeded 3 0" in calls and "Failed 0 2" in calls and "In progress 0 1" in calls
    assert "Published 1 0" in calls and "Unconfirmed 1 0" in calls
    assert "Waiting to retry 1" in text_of(html, "targets-by-state")
    assert "Needs reconnect 2 0" in text_of(html, "connections")
    assert "Disconnected 0 1" in text_of(html, "connections")


def test_the_operations_page_says_when_nothing_is_stuck(admin_user):
    html = signed_in(admin_user, reauthenticated=False).get("/ops/").content.decode()
    assert "Nothing past its lease" in html
    assert "Oldest due, not dispatched None" in text_of(html, "dispatch")
