"""The post page's buttons for a failed or unconfirmed account: POST only, for those who see the
client (its team, its manager, admins), a message either way, and the answer about an
unconfirmed post only after the person says they looked at the profile."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.audit.actions import AuditAction
from apps.audit.models import AuditEvent
from apps.publishing.models import CrossPost, TargetState
from tests.publishing.post_builders import post, signed_in, target

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
S = TargetState
LINK = "https://www.tiktok.com/@northwind/video/7234567890123456789"


@pytest.fixture(autouse=True)
def frozen(settings):
    settings.PLATFORM_BASE_URLS = {
        **settings.PLATFORM_BASE_URLS,
        "tiktok_auth": "https://www.tiktok.com",
    }
    with time_machine.travel(NOW, tick=False):
        yield


def failed(client_obj, platform: str = "tiktok"):
    return target(post(client_obj, NOW, targets={platform: "failed"}), platform)


def unconfirmed(client_obj, platform: str = "tiktok"):
    return target(post(client_obj, NOW, targets={platform: "unconfirmed"}), platform)


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def answer(user, t, **data):
    fields = {f"t{t.pk}-{name}": value for name, value in data.items()}
    return signed_in(user).post(reverse("publishing:target_confirm", args=[t.pk]), fields)


ROLES = [
    ("admin_user", True),
    ("manager", True),
    ("staff_member", True),
    ("outsider", False),
    ("other_manager", False),
]


@pytest.mark.parametrize(("role", "allowed"), ROLES)
def test_retry_is_for_those_who_see_the_client(request, client_obj, role, allowed):
    t = failed(client_obj)
    response = signed_in(request.getfixturevalue(role)).post(
        reverse("publishing:target_retry", args=[t.pk])
    )
    t.refresh_from_db()
    if allowed:
        assert response.status_code == 302
        assert response["Location"] == reverse("publishing:post", args=[t.crosspost_id])
        assert t.state == S.SCHEDULED and t.due_at == NOW
    else:
        assert response.status_code == 404
        assert t.state == S.FAILED


@pytest.mark.parametrize(("role", "allowed"), ROLES)
def test_the_answer_is_for_those_who_see_the_client(request, client_obj, role, allowed):
    t = unconfirmed(client_obj)
    response = answer(request.getfixturevalue(role), t, checked_profile="on", decision="found")
    t.refresh_from_db()
    assert response.status_code == (302 if allowed else 404)
    assert t.state == (S.PUBLISHED if allowed else S.UNCONFIRMED)


@pytest.mark.parametrize("name", ["target_retry", "target_confirm"])
def test_anonymous_visitors_are_sent_to_sign_in_and_nothing_moves(client, client_obj, name):
    t = failed(client_obj) if name == "target_retry" else unconfirmed(client_obj)
    response = client.post(reverse(f"publishing:{name}", args=[t.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    before = t.state
    t.refresh_from_db()
    assert t.state == before


@pytest.mark.parametrize("name", ["target_retry", "target_confirm"])
def test_a_get_changes_nothing(admin_user, client_obj, name):
    t = failed(client_obj) if name == "target_retry" else unconfirmed(client_obj)
    response = signed_in(admin_user).get(reverse(f"publishing:{name}", args=[t.pk]))
    assert response.status_code == 405
    before = t.state
    t.refresh_from_db()
    assert t.state == before


def test_a_retry_says_it_is_on_its_way(staff_member, client_obj):
    t = failed(client_obj)
    response = signed_in(staff_member).post(reverse("publishing:target_retry", args=[t.pk]))
    assert said(response) == [
        "Publishing to @northwind-coffee.tiktok on TikTok again now. This page follows along."
    ]
    event = AuditEvent.objects.get(action=AuditAction.TARGET_STATE_CHANGED)
    assert event.actor_id == staff_member.pk


def test_a_second_click_on_retry_says_it_already_moved(staff_member, client_obj):
    t = failed(client_obj)
    http = signed_in(staff_member)
    url = reverse("publishing:target_retry", args=[t.pk])
    http.get(http.post(url)["Location"])  # the first click's page, with its message
    response = http.post(url)
    assert response.status_code == 302
    [message] = said(response)
    assert "is scheduled now, not failed" in message and "Nothing was changed" in message
    assert AuditEvent.objects.filter(action=AuditAction.TARGET_STATE_CHANGED).count() == 1


def test_it_is_there_with_its_link(manager, client_obj):
    t = unconfirmed(client_obj)
    response = answer(manager, t, checked_profile="on", decision="found", permalink=LINK)
    assert response.status_code == 302
    assert said(response) == ["Marked as published on @northwind-coffee.tiktok on TikTok."]
    t.refresh_from_db()
    assert (t.state, t.permalink) == (S.PUBLISHED, LINK)
    assert CrossPost.objects.get(pk=t.crosspost_id).status == CrossPost.Status.PUBLISHED


def test_it_is_not_there_publishes_again(manager, client_obj):
    t = unconfirmed(client_obj)
    response = answer(manager, t, checked_profile="on", decision="missing")
    assert said(response) == [
        "Publishing to @northwind-coffee.tiktok on TikTok again now. This page follows along."
    ]
    t.refresh_from_db()
    assert t.state == S.SCHEDULED and t.due_at == NOW


def test_no_answer_counts_without_a_look_at_the_profile(manager, client_obj):
    t = unconfirmed(client_obj)
    response = answer(manager, t, decision="missing")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Look at the profile first, then tick this box." in html
    assert 'aria-invalid="true"' in html
    t.refresh_from_db()
    assert t.state == S.UNCONFIRMED


@pytest.mark.parametrize(
    ("platform", "link"),
    [
        ("tiktok", "https://www.tiktok.com/@northwind"),
        ("tiktok", "https://www.instagram.com/reel/C1a2b3c4d5e/"),
        ("instagram", LINK),
        ("tiktok", "javascript:alert(1)"),
    ],
)
def test_a_link_that_isnt_the_platforms_post_is_refused(manager, client_obj, platform, link):
    t = unconfirmed(client_obj, platform)
    response = answer(manager, t, checked_profile="on", decision="found", permalink=link)
    assert response.status_code == 400
    name = {"tiktok": "TikTok", "instagram": "Instagram"}[platform]
    html = response.content.decode()
    assert f"That isn&#x27;t a link to a {name} post." in html
    assert f'value="{link}"' in html  # what they typed stays, to be corrected
    t.refresh_from_db()
    assert (t.state, t.permalink) == (S.UNCONFIRMED, "")


def test_a_link_with_not_there_is_a_contradiction(manager, client_obj):
    t = unconfirmed(client_obj)
    response = answer(manager, t, checked_profile="on", decision="missing", permalink=LINK)
    assert response.status_code == 400
    assert "but said it isn" in response.content.decode()
    t.refresh_from_db()
    assert t.state == S.UNCONFIRMED


def test_an_answer_for_a_target_that_moved_says_so(manager, client_obj):
    t = unconfirmed(client_obj)
    answer(manager, t, checked_profile="on", decision="found")
    response = answer(manager, t, checked_profile="on", decision="missing")
    assert response.status_code == 302
    [message] = said(response)
    assert "is published now, not unconfirmed" in message
    t.refresh_from_db()
    assert t.state == S.PUBLISHED
