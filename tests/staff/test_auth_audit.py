from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from apps.audit.models import AuditEvent
from tests.factories import DEFAULT_PASSWORD
from tests.staff.helpers import enrol_totp, signed_in

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")


def sign_in(client: Client, email: str, password: str = DEFAULT_PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def test_a_sign_in_is_audited(staff_member):
    response = sign_in(Client(), staff_member.email)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor == staff_member
    assert event.actor_label == staff_member.label


def test_a_failed_sign_in_records_the_attempted_email_and_never_the_password(staff_member):
    response = sign_in(Client(), staff_member.email, password="wrong-guess-Sesame42")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.actor is None
    assert event.actor_label == staff_member.email
    assert "wrong-guess-Sesame42" not in str(event.content())


def test_a_failed_sign_in_for_an_unknown_email_is_audited_too(db):
    sign_in(Client(), "nobody@elsewhere.example", password="whatever-Pass-1")
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.actor_label == "nobody@elsewhere.example"


def test_a_sign_out_is_audited(staff_member):
    client = Client()
    sign_in(client, staff_member.email)
    client.post(reverse("account_logout"))
    assert AuditEvent.objects.get(action="auth.logout").actor == staff_member


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "3/5m/key"})
def test_it_refuses_even_the_right_password_after_too_many_failures(staff_member):
    client = Client()
    for _ in range(3):
        sign_in(client, staff_member.email, password="not-it-at-all-9")
    response = sign_in(client, staff_member.email)
    assert response.status_code == 200
    assert "Too many failed sign-ins for this account" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_enabling_mfa_is_audited_with_the_recovery_codes(
    staff_member, django_capture_on_commit_callbacks
):
    client = signed_in(staff_member)
    with django_capture_on_commit_callbacks(execute=True):
        enrol_totp(client)
    assert AuditEvent.objects.get(action="auth.mfa_enabled").data == {"type": "totp"}
    assert AuditEvent.objects.filter(action="auth.recovery_codes_generated").count() == 1


def test_regenerating_recovery_codes_is_audited(staff_member, django_capture_on_commit_callbacks):
    client = signed_in(staff_member)
    enrol_totp(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_generate_recovery_codes"))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.recovery_codes_generated").count() == 1


def test_disabling_mfa_is_audited_once(staff_member, django_capture_on_commit_callbacks):
    client = signed_in(staff_member)
    enrol_totp(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="auth.mfa_disabled").data == {"type": "totp"}


def test_a_password_change_is_audited(staff_member):
    client = signed_in(staff_member)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": DEFAULT_PASSWORD,
            "password1": "quartz-lantern-meadow-81",
            "password2": "quartz-lantern-meadow-81",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.password_changed")
    assert event.actor == staff_member
    assert "quartz" not in str(event.content())
