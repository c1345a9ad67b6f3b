from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD
from tests.staff.helpers import enrol_totp, signed_in, totp_code

pytestmark = pytest.mark.django_db


@override_settings(MFA_REQUIRED_FOR_ADMINS=True)
def test_an_admin_without_an_authenticator_is_sent_to_enrol(admin_user):
    client = signed_in(admin_user, reauthenticated=False)
    for url in (reverse("dashboard"), reverse("staff:list"), reverse("staff:profile")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url == reverse("mfa_activate_totp")


@override_settings(MFA_REQUIRED_FOR_ADMINS=True)
def test_the_enrolment_and_sign_out_pages_stay_reachable(admin_user):
    client = signed_in(admin_user)
    for name in ("mfa_index", "mfa_activate_totp", "account_reauthenticate", "account_logout"):
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get("/static/css/app.css").status_code in (200, 404)  # never a redirect


@override_settings(MFA_REQUIRED_FOR_ADMINS=True)
def test_an_admin_with_totp_gets_through(admin_user):
    client = signed_in(admin_user)
    enrol_totp(client)
    assert client.get(reverse("staff:list")).status_code == 200


@override_settings(MFA_REQUIRED_FOR_ADMINS=True)
def test_the_requirement_is_only_for_admins(manager, staff_member):
    for user in (manager, staff_member):
        assert signed_in(user, reauthenticated=False).get(reverse("dashboard")).status_code == 200


@override_settings(MFA_REQUIRED_FOR_ADMINS=False)
def test_without_the_setting_admins_are_not_forced(admin_user):
    client = signed_in(admin_user, reauthenticated=False)
    assert client.get(reverse("staff:list")).status_code == 200


def test_signing_in_with_totp_asks_for_the_code(staff_member):
    secret = enrol_totp(signed_in(staff_member))
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": staff_member.email, "password": DEFAULT_PASSWORD}
    )
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff_member.pk)
