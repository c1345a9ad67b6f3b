from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.staff import services
from apps.staff.models import Invitation, Role, User
from tests.factories import UserFactory
from tests.staff.helpers import signed_in

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "tulip-orbit-canyon-47"


def invite(admin: User, email: str = "newbie@agency.example", role: str = Role.STAFF):
    return services.invitation_create(
        email=email, role=role, name="New Person", invited_by=admin, base_url="http://testserver/"
    )


def accept_url(token: str) -> str:
    return reverse("staff:accept", args=[token])


# --- Services -----------------------------------------------------------------------------------


def test_it_stores_only_a_hash_of_the_token(admin_user):
    invitation, token = invite(admin_user)
    invitation.refresh_from_db()
    assert invitation.token_hash == Invitation.hash_token(token)
    assert token not in invitation.token_hash
    assert invitation.expires_at > timezone.now() + timedelta(days=6)


def test_it_emails_the_link_after_commit(admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, token = invite(admin_user, email="NewBie@Agency.example")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["newbie@agency.example"]
    assert f"http://testserver{accept_url(token)}" in message.body


def test_it_audits_the_invitation_without_the_token(admin_user):
    invitation, token = invite(admin_user, role=Role.MANAGER)
    event = AuditEvent.objects.get(action="staff.invited")
    assert event.actor == admin_user
    assert event.target_id == str(invitation.pk)
    assert event.data["role"] == "manager"
    assert token not in str(event.data)


def test_it_refuses_to_invite_an_email_that_belongs_to_a_user(admin_user, staff_member):
    with pytest.raises(ValidationError, match="already belongs"):
        invite(admin_user, email=staff_member.email.upper())
    assert not Invitation.objects.exists()


def test_it_refuses_to_invite_an_email_with_an_open_invitation(admin_user):
    invite(admin_user)
    with pytest.raises(ValidationError, match="open invitation"):
        invite(admin_user)
    assert Invitation.objects.count() == 1


def test_it_allows_a_new_invitation_once_the_old_one_expired(admin_user):
    invite(admin_user)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        invite(admin_user)
    assert Invitation.objects.count() == 2


def test_it_creates_the_user_with_the_invited_role(admin_user):
    _invitation, token = invite(admin_user, role=Role.MANAGER)
    user = services.invitation_accept(token=token, name="Nia Newbie", password=GOOD_PASSWORD)
    assert user.email == "newbie@agency.example"
    assert user.role == Role.MANAGER
    assert user.name == "Nia Newbie"
    assert user.check_password(GOOD_PASSWORD)
    invitation = Invitation.objects.get()
    assert invitation.accepted_at is not None
    assert invitation.user == user
    joined = AuditEvent.objects.get(action="staff.joined")
    assert joined.actor == user


def test_it_refuses_a_reused_invitation_in_the_service(admin_user):
    _invitation, token = invite(admin_user)
    services.invitation_accept(token=token, name="Nia", password=GOOD_PASSWORD)
    with pytest.raises(services.InvitationUnusable):
        services.invitation_accept(token=token, name="Someone Else", password=GOOD_PASSWORD)
    assert User.objects.filter(email="newbie@agency.example").count() == 1


def test_it_revokes_a_pending_invitation(admin_user):
    invitation, token = invite(admin_user)
    services.invitation_revoke(invitation=invitation, actor=admin_user)
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert AuditEvent.objects.filter(action="staff.invitation_revoked").count() == 1
    with pytest.raises(services.InvitationUnusable):
        services.invitation_accept(token=token, name="Nia", password=GOOD_PASSWORD)


def test_it_refuses_to_revoke_an_accepted_invitation(admin_user):
    invitation, token = invite(admin_user)
    services.invitation_accept(token=token, name="Nia", password=GOOD_PASSWORD)
    with pytest.raises(ValidationError):
        services.invitation_revoke(invitation=invitation, actor=admin_user)


def test_resending_issues_a_new_token_and_the_old_link_stops_working(
    admin_user, django_capture_on_commit_callbacks
):
    invitation, old_token = invite(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        new_token = services.invitation_resend(
            invitation=invitation, actor=admin_user, base_url="http://testserver/"
        )
    assert new_token != old_token
    assert accept_url(new_token) in mail.outbox[-1].body
    assert AuditEvent.objects.filter(action="staff.invited", data__resent=True).count() == 1
    with pytest.raises(services.InvitationUnusable):
        services.invitation_accept(token=old_token, name="Nia", password=GOOD_PASSWORD)
    services.invitation_accept(token=new_token, name="Nia", password=GOOD_PASSWORD)


def test_resending_an_expired_invitation_gives_it_a_new_expiry(admin_user):
    invitation, _token = invite(admin_user)
    with time_machine.travel(timezone.now() + timedelta(days=10)):
        token = services.invitation_resend(
            invitation=invitation, actor=admin_user, base_url="http://testserver/"
        )
        services.invitation_accept(token=token, name="Nia", password=GOOD_PASSWORD)


# --- Accept page ---------------------------------------------------------------------------------


def test_the_accept_page_asks_for_name_and_password(admin_user, client):
    _invitation, token = invite(admin_user)
    response = client.get(accept_url(token))
    assert response.status_code == 200
    body = response.content.decode()
    assert "newbie@agency.example" in body
    assert 'name="password1"' in body
    assert 'value="New Person"' in body


def test_it_accepts_an_invitation_and_signs_the_user_in(admin_user, client):
    _invitation, token = invite(admin_user)
    response = client.post(
        accept_url(token),
        {"name": "Nia Newbie", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD},
    )
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    user = User.objects.get(email="newbie@agency.example")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert AuditEvent.objects.filter(action="auth.login", actor=user).exists()


def test_it_refuses_a_reused_invitation(admin_user):
    _invitation, token = invite(admin_user)
    data = {"name": "Nia Newbie", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}
    Client().post(accept_url(token), data)
    response = Client().post(accept_url(token), {**data, "name": "Mallory"})
    assert response.status_code == 410
    assert "ask your admin for a new invitation" in response.content.decode()
    assert User.objects.filter(email="newbie@agency.example").get().name == "Nia Newbie"


def test_it_refuses_an_expired_invitation(admin_user, client):
    _invitation, token = invite(admin_user)
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = client.post(
            accept_url(token),
            {"name": "Nia", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD},
        )
    assert response.status_code == 410
    assert "ask your admin for a new invitation" in response.content.decode()
    assert not User.objects.filter(email="newbie@agency.example").exists()


def test_it_refuses_a_revoked_invitation(admin_user, client):
    invitation, token = invite(admin_user)
    services.invitation_revoke(invitation=invitation, actor=admin_user)
    response = client.get(accept_url(token))
    assert response.status_code == 410
    assert "ask your admin for a new invitation" in response.content.decode()


def test_it_refuses_an_unknown_token(client):
    response = client.get(accept_url("not-a-real-token"))
    assert response.status_code == 410


def test_it_applies_the_password_validators_and_creates_nothing(admin_user, client):
    invitation, token = invite(admin_user)
    response = client.post(
        accept_url(token), {"name": "Nia", "password1": "12345678", "password2": "12345678"}
    )
    assert response.status_code == 200
    assert "too common" in response.content.decode()
    assert not User.objects.filter(email="newbie@agency.example").exists()
    invitation.refresh_from_db()
    assert invitation.is_open
    assert not AuditEvent.objects.filter(action="staff.joined").exists()


def test_it_refuses_two_different_passwords(admin_user, client):
    _invitation, token = invite(admin_user)
    response = client.post(
        accept_url(token),
        {"name": "Nia", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD + "x"},
    )
    assert response.status_code == 200
    assert "The two passwords differ." in response.content.decode()
    assert not User.objects.filter(email="newbie@agency.example").exists()


def test_a_signed_in_user_is_asked_to_sign_out_first(admin_user, staff_member):
    _invitation, token = invite(admin_user)
    response = signed_in(staff_member, reauthenticated=False).get(accept_url(token))
    assert response.status_code == 200
    assert "already signed in" in response.content.decode()


# --- Invite page ---------------------------------------------------------------------------------


def test_admins_can_open_the_invite_page(admin_user):
    assert (
        signed_in(admin_user, reauthenticated=False).get(reverse("staff:invite")).status_code == 200
    )


@pytest.mark.parametrize("role_fixture", ["manager", "staff_member"])
def test_non_admins_get_404_on_the_invite_page(request, role_fixture):
    user = request.getfixturevalue(role_fixture)
    client = signed_in(user, reauthenticated=False)
    assert client.get(reverse("staff:invite")).status_code == 404
    response = client.post(reverse("staff:invite"), {"email": "x@agency.example", "role": "admin"})
    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in_from_the_invite_page(client):
    response = client.get(reverse("staff:invite"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_admins_invite_through_the_form(admin_user, django_capture_on_commit_callbacks):
    client = signed_in(admin_user, reauthenticated=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("staff:invite"),
            {"email": "Fresh@Agency.example", "name": "Fresh Face", "role": "manager"},
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "fresh@agency.example",
        "manager",
        admin_user,
    )
    link = re.search(r"http://testserver(/invitations/\S+/)", mail.outbox[0].body)
    assert link is not None
    assert Client().get(link.group(1)).status_code == 200


def test_the_invite_form_explains_an_email_that_already_belongs_to_a_user(admin_user, staff_member):
    response = signed_in(admin_user, reauthenticated=False).post(
        reverse("staff:invite"), {"email": staff_member.email, "role": "staff"}
    )
    assert response.status_code == 200
    assert "already belongs to a staff member" in response.content.decode()
    assert not Invitation.objects.exists()


def test_the_invite_form_explains_an_open_invitation(admin_user):
    invite(admin_user)
    response = signed_in(admin_user, reauthenticated=False).post(
        reverse("staff:invite"), {"email": "newbie@agency.example", "role": "staff"}
    )
    assert response.status_code == 200
    assert "already has an open invitation" in response.content.decode()
    assert Invitation.objects.count() == 1


def test_the_invite_form_refuses_a_post_without_csrf(admin_user):
    client = signed_in(admin_user, csrf_checks=True)
    response = client.post(reverse("staff:invite"), {"email": "x@agency.example", "role": "staff"})
    assert response.status_code == 403
    assert not Invitation.objects.exists()


# --- Revoke / resend views -----------------------------------------------------------------------


def test_admins_revoke_and_resend_from_the_staff_page(
    admin_user, django_capture_on_commit_callbacks
):
    invitation, _token = invite(admin_user)
    client = signed_in(admin_user, reauthenticated=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff:invitation_resend", args=[invitation.pk]))
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    response = client.post(reverse("staff:invitation_revoke", args=[invitation.pk]))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == "revoked"


@pytest.mark.parametrize("name", ["staff:invitation_revoke", "staff:invitation_resend"])
@pytest.mark.parametrize("role_fixture", ["manager", "staff_member"])
def test_non_admins_get_404_on_invitation_actions(request, admin_user, name, role_fixture):
    invitation, _token = invite(admin_user)
    client = signed_in(request.getfixturevalue(role_fixture), reauthenticated=False)
    assert client.post(reverse(name, args=[invitation.pk])).status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == "pending"


@pytest.mark.parametrize("name", ["staff:invitation_revoke", "staff:invitation_resend"])
def test_invitation_actions_refuse_a_post_without_csrf(admin_user, name):
    invitation, _token = invite(admin_user)
    client = signed_in(admin_user, csrf_checks=True)
    assert client.post(reverse(name, args=[invitation.pk])).status_code == 403


def test_revoking_twice_says_so(admin_user):
    invitation, _token = invite(admin_user)
    client = signed_in(admin_user, reauthenticated=False)
    client.post(reverse("staff:invitation_revoke", args=[invitation.pk]))
    response = client.post(reverse("staff:invitation_revoke", args=[invitation.pk]), follow=True)
    assert "already revoked" in response.content.decode()


def test_a_new_user_can_sign_in_with_the_chosen_password(admin_user):
    _invitation, token = invite(admin_user)
    Client().post(
        accept_url(token), {"name": "Nia", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}
    )
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": "newbie@agency.example", "password": GOOD_PASSWORD}
    )
    assert response.status_code == 302
    assert UserFactory._meta.model.objects.get(email="newbie@agency.example").last_login
