from __future__ import annotations

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.test import Client
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
