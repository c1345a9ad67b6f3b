from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from allauth.usersessions.signals import session_client_changed
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.staff import services
from tests.factories import DEFAULT_PASSWORD
from tests.staff.helpers import signed_in

pytestmark = pytest.mark.django_db


def sign_in(user_agent: str, email: str) -> Client:
    client = Client(HTTP_USER_AGENT=user_agent)
    response = client.post(reverse("account_login"), {"login": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


def test_users_see_their_sessions_and_end_the_others(staff_member):
    laptop = sign_in("Laptop Browser", staff_member.email)
    phone = sign_in("Phone Browser", staff_member.email)
    response = laptop.get(reverse("usersessions_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Laptop Browser" in body
    assert "Phone Browser" in body
    response = laptop.post(reverse("usersessions_list"))
    assert response.status_code == 302
    assert phone.get(reverse("staff:profile")).status_code == 302
    assert laptop.get(reverse("staff:profile")).status_code == 200


def test_deactivation_ends_tracked_and_untracked_sessions(admin_user, staff_member):
    tracked = sign_in("Tracked", staff_member.email)
    untracked = Client()
    untracked.force_login(staff_member)  # no request through the middleware yet: not tracked
    assert UserSession.objects.filter(user=staff_member).count() == 1
    services.user_deactivate(user=staff_member, actor=admin_user)
    assert not UserSession.objects.filter(user=staff_member).exists()
    remaining = [
        s
        for s in Session.objects.all()
        if s.get_decoded().get("_auth_user_id") == str(staff_member.pk)
    ]
    assert remaining == []
    for client in (tracked, untracked):
        assert client.get(reverse("staff:profile")).status_code == 302


def test_a_deactivated_users_surviving_session_is_refused(admin_user, staff_member):
    """Even a session the sweep missed does not work: Django refuses inactive users."""
    client = Client()
    client.force_login(staff_member)
    staff_member.is_active = False
    staff_member.save(update_fields=["is_active"])
    response = client.get(reverse("staff:profile"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_the_admins_own_other_sessions_survive_deactivating_someone_else(admin_user, staff_member):
    other_admin_tab = signed_in(admin_user, reauthenticated=False)
    signed_in(admin_user).post(reverse("staff:deactivate", args=[staff_member.pk]))
    assert other_admin_tab.get(reverse("staff:list")).status_code == 200


SIGNED_IN_AT = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
SESSION_ROW_WRITES = ('UPDATE "usersessions_usersession"', 'INSERT INTO "usersessions_usersession"')


def session_row_writes(queries) -> int:
    return sum(q["sql"].startswith(SESSION_ROW_WRITES) for q in queries.captured_queries)


def test_a_session_is_marked_seen_at_most_once_a_minute(staff_member):
    with time_machine.travel(SIGNED_IN_AT, tick=False) as clock:
        browser = sign_in("Laptop Browser", staff_member.email)  # row written at sign-in
        row = UserSession.objects.get(user=staff_member)
        profile = reverse("staff:profile")

        clock.shift(timedelta(seconds=30))
        with CaptureQueriesContext(connection) as within_the_minute:
            for _ in range(10):
                assert browser.get(profile).status_code == 200
        assert session_row_writes(within_the_minute) == 0
        row.refresh_from_db()
        assert row.last_seen_at == SIGNED_IN_AT

        clock.shift(timedelta(seconds=31))  # a minute and a second after the last write
        with CaptureQueriesContext(connection) as next_minute:
            for _ in range(10):
                browser.get(profile)
                clock.shift(timedelta(seconds=1))
        assert session_row_writes(next_minute) == 1
        row.refresh_from_db()
        assert row.last_seen_at == SIGNED_IN_AT + timedelta(seconds=61)

        clock.shift(timedelta(seconds=51))  # 61 s after that write
        with CaptureQueriesContext(connection) as a_minute_later:
            browser.get(profile)
        assert session_row_writes(a_minute_later) == 1


def test_a_new_address_or_browser_is_recorded_at_once(staff_member):
    changes = []

    def changed(sender, from_session, to_session, **kwargs):
        changes.append((from_session.ip, to_session.ip, to_session.user_agent))

    session_client_changed.connect(changed)
    try:
        with time_machine.travel(SIGNED_IN_AT, tick=False) as clock:
            browser = sign_in("Laptop Browser", staff_member.email)
            clock.shift(timedelta(seconds=5))
            browser.get(reverse("staff:profile"), REMOTE_ADDR="198.51.100.4")
            clock.shift(timedelta(seconds=5))
            browser.get(reverse("staff:profile"), REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="B")
    finally:
        session_client_changed.disconnect(changed)
    assert changes == [
        ("127.0.0.1", "198.51.100.4", "Laptop Browser"),
        ("198.51.100.4", "198.51.100.4", "B"),
    ]
    row = UserSession.objects.get(user=staff_member)
    assert (row.ip, row.user_agent) == ("198.51.100.4", "B")


def test_a_session_signed_in_elsewhere_is_tracked_at_its_first_request(staff_member):
    client = Client()
    client.force_login(staff_member)  # e.g. a session handed over, not through the sign-in page
    assert not UserSession.objects.filter(user=staff_member).exists()
    client.get(reverse("staff:profile"))
    assert UserSession.objects.filter(user=staff_member).count() == 1
