from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.staff import services
from apps.staff.models import Role, User
from tests.factories import UserFactory
from tests.staff.helpers import enrol_totp, signed_in

pytestmark = pytest.mark.django_db

NON_ADMINS = ["manager", "staff_member"]


# --- The list ------------------------------------------------------------------------------------


def test_admins_see_everyone_with_role_mfa_status_and_last_sign_in(admin_user, staff_member):
    gone = UserFactory(name="Gus Gone", email="gus@agency.example")
    services.user_deactivate(user=gone, actor=admin_user)
    client = signed_in(admin_user)
    enrol_totp(client)
    response = client.get(reverse("staff:list"))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("Ada Admin", "sam@agency.example", "Gus Gone", "Deactivated", "Never"):
        assert text in body
    users = {u.email: u for u in response.context["users"]}
    assert users["ada@agency.example"].has_mfa is True
    assert users["sam@agency.example"].has_mfa is False


def test_the_list_runs_a_fixed_number_of_queries(admin_user, django_assert_max_num_queries):
    UserFactory.create_batch(15)
    client = signed_in(admin_user, reauthenticated=False)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("staff:list")).status_code == 200


@pytest.mark.parametrize("role_fixture", NON_ADMINS)
def test_non_admins_get_404_on_the_list(request, role_fixture):
    client = signed_in(request.getfixturevalue(role_fixture), reauthenticated=False)
    assert client.get(reverse("staff:list")).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, staff_member):
    responses = [client.get(reverse("staff:list")), client.get(reverse("staff:profile"))] + [
        client.post(reverse(name, args=[staff_member.pk]), {"role": "admin"})
        for name in ("staff:role", "staff:deactivate", "staff:reactivate")
    ]
    for response in responses:
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    staff_member.refresh_from_db()
    assert (staff_member.role, staff_member.is_active) == (Role.STAFF, True)


def test_deactivated_admins_get_nothing(admin_user):
    other = UserFactory(role=Role.ADMIN)
    client = signed_in(admin_user, reauthenticated=False)
    services.user_deactivate(user=admin_user, actor=other)
    response = client.get(reverse("staff:list"))
    assert response.status_code == 302


# --- Role change ---------------------------------------------------------------------------------


def test_admins_change_a_role_and_it_is_audited(admin_user, staff_member):
    response = signed_in(admin_user).post(
        reverse("staff:role", args=[staff_member.pk]), {"role": "manager"}
    )
    assert response.status_code == 302
    staff_member.refresh_from_db()
    assert staff_member.role == Role.MANAGER
    event = AuditEvent.objects.get(action="staff.role_changed")
    assert event.actor == admin_user
    assert event.target_id == str(staff_member.pk)
    assert event.data == {"before": {"role": "staff"}, "after": {"role": "manager"}}


def test_a_role_change_requires_a_recent_reauthentication(admin_user, staff_member):
    client = signed_in(admin_user, reauthenticated=False)
    url = reverse("staff:role", args=[staff_member.pk])
    response = client.post(url, {"role": "admin"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    staff_member.refresh_from_db()
    assert staff_member.role == Role.STAFF
    # After confirming the password, allauth replays the suspended POST.
    response = client.post(
        f"{reverse('account_reauthenticate')}?next={url}",
        {"password": "correct-horse-battery-staple"},
    )
    staff_member.refresh_from_db()
    assert staff_member.role == Role.ADMIN


def test_the_last_admin_cannot_demote_themselves(admin_user):
    client = signed_in(admin_user)
    response = client.post(
        reverse("staff:role", args=[admin_user.pk]), {"role": "staff"}, follow=True
    )
    assert "last active admin" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN
    assert not AuditEvent.objects.filter(action="staff.role_changed").exists()


def test_an_admin_may_demote_themselves_when_another_admin_remains(admin_user):
    UserFactory(role=Role.ADMIN)
    response = signed_in(admin_user).post(
        reverse("staff:role", args=[admin_user.pk]), {"role": "manager"}
    )
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    admin_user.refresh_from_db()
    assert admin_user.role == Role.MANAGER


def test_an_inactive_admin_does_not_count_as_another_admin(admin_user):
    other = UserFactory(role=Role.ADMIN)
    services.user_deactivate(user=other, actor=admin_user)
    signed_in(admin_user).post(reverse("staff:role", args=[admin_user.pk]), {"role": "staff"})
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN


def test_a_bad_role_changes_nothing(admin_user, staff_member):
    response = signed_in(admin_user).post(
        reverse("staff:role", args=[staff_member.pk]), {"role": "overlord"}, follow=True
    )
    assert "Choose a valid role." in response.content.decode()
    staff_member.refresh_from_db()
    assert staff_member.role == Role.STAFF
    assert not AuditEvent.objects.filter(action="staff.role_changed").exists()


@pytest.mark.parametrize("role_fixture", NON_ADMINS)
def test_non_admins_get_404_on_role_change(request, role_fixture, outsider):
    client = signed_in(request.getfixturevalue(role_fixture))
    response = client.post(reverse("staff:role", args=[outsider.pk]), {"role": "admin"})
    assert response.status_code == 404
    outsider.refresh_from_db()
    assert outsider.role == Role.STAFF


def test_role_change_refuses_a_post_without_csrf(admin_user, staff_member):
    client = signed_in(admin_user, csrf_checks=True)
    response = client.post(reverse("staff:role", args=[staff_member.pk]), {"role": "admin"})
    assert response.status_code == 403
    staff_member.refresh_from_db()
    assert staff_member.role == Role.STAFF


def test_role_change_is_post_only(admin_user, staff_member):
    response = signed_in(admin_user).get(reverse("staff:role", args=[staff_member.pk]))
    assert response.status_code == 405


def test_an_unknown_user_is_404(admin_user):
    response = signed_in(admin_user).post(reverse("staff:role", args=[99999]), {"role": "staff"})
    assert response.status_code == 404


# --- Deactivate / reactivate ----------------------------------------------------------------------


def test_deactivation_signs_the_user_out_everywhere(admin_user, staff_member):
    theirs = Client()
    theirs.force_login(staff_member)
    assert theirs.get(reverse("staff:profile")).status_code == 200
    response = signed_in(admin_user).post(reverse("staff:deactivate", args=[staff_member.pk]))
    assert response.status_code == 302
    staff_member.refresh_from_db()
    assert not staff_member.is_active
    assert staff_member.deactivated_at is not None
    response = theirs.get(reverse("staff:profile"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    event = AuditEvent.objects.get(action="staff.deactivated")
    assert event.actor == admin_user
    assert event.data["sessions_ended"] >= 1


def test_a_deactivated_user_cannot_sign_in(admin_user, staff_member):
    services.user_deactivate(user=staff_member, actor=admin_user)
    response = Client().post(
        reverse("account_login"),
        {"login": staff_member.email, "password": "correct-horse-battery-staple"},
    )
    assert "_auth_user_id" not in response.wsgi_request.session


def test_deactivation_requires_a_recent_reauthentication(admin_user, staff_member):
    response = signed_in(admin_user, reauthenticated=False).post(
        reverse("staff:deactivate", args=[staff_member.pk])
    )
    assert response.url.startswith(reverse("account_reauthenticate"))
    staff_member.refresh_from_db()
    assert staff_member.is_active


def test_the_last_admin_cannot_deactivate_themselves(admin_user):
    response = signed_in(admin_user).post(
        reverse("staff:deactivate", args=[admin_user.pk]), follow=True
    )
    assert "last active admin" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active
    assert not AuditEvent.objects.filter(action="staff.deactivated").exists()


def test_an_admin_who_deactivates_themselves_is_signed_out(admin_user):
    UserFactory(role=Role.ADMIN)
    client = signed_in(admin_user)
    response = client.post(reverse("staff:deactivate", args=[admin_user.pk]))
    assert response.status_code == 302
    assert response.url == reverse("account_login")
    assert client.get(reverse("staff:list")).status_code == 302


def test_admins_reactivate_a_user(admin_user, staff_member):
    services.user_deactivate(user=staff_member, actor=admin_user)
    response = signed_in(admin_user).post(reverse("staff:reactivate", args=[staff_member.pk]))
    assert response.status_code == 302
    staff_member.refresh_from_db()
    assert staff_member.is_active
    assert staff_member.deactivated_at is None
    assert AuditEvent.objects.filter(action="staff.reactivated", actor=admin_user).count() == 1


@pytest.mark.parametrize("name", ["staff:deactivate", "staff:reactivate"])
@pytest.mark.parametrize("role_fixture", NON_ADMINS)
def test_non_admins_get_404_on_deactivate_and_reactivate(request, name, role_fixture, outsider):
    client = signed_in(request.getfixturevalue(role_fixture))
    assert client.post(reverse(name, args=[outsider.pk])).status_code == 404
    outsider.refresh_from_db()
    assert outsider.is_active


@pytest.mark.parametrize("name", ["staff:deactivate", "staff:reactivate"])
def test_deactivate_and_reactivate_refuse_a_post_without_csrf(admin_user, staff_member, name):
    client = signed_in(admin_user, csrf_checks=True)
    assert client.post(reverse(name, args=[staff_member.pk])).status_code == 403
    staff_member.refresh_from_db()
    assert staff_member.is_active


# --- Profile -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role_fixture", ["admin_user", "manager", "staff_member"])
def test_everyone_sees_their_own_profile(request, role_fixture):
    user: User = request.getfixturevalue(role_fixture)
    response = signed_in(user, reauthenticated=False).get(reverse("staff:profile"))
    assert response.status_code == 200
    body = response.content.decode()
    assert user.name in body
    assert user.email in body
    assert user.get_role_display() in body
    for name in ("account_change_password", "mfa_index", "usersessions_list"):
        assert reverse(name) in body


def test_the_profile_offers_every_zone_and_the_agency_default(settings, staff_member):
    settings.TIME_ZONE = "Europe/London"
    response = signed_in(staff_member, reauthenticated=False).get(reverse("staff:profile"))
    body = response.content.decode()
    assert '<option value="" selected>Agency default (Europe/London)</option>' in body
    assert '<option value="America/New_York">America/New York</option>' in body
    assert "Agency default (Europe/London)</dd>" in body


def test_staff_set_and_clear_their_own_timezone(settings, staff_member):
    settings.TIME_ZONE = "Europe/London"
    client = signed_in(staff_member, reauthenticated=False)

    response = client.post(reverse("staff:profile"), {"timezone": "Australia/Sydney"}, follow=True)
    staff_member.refresh_from_db()
    assert staff_member.timezone == "Australia/Sydney"
    body = response.content.decode()
    assert "Your calendar times are now in Australia/Sydney." in body
    assert '<option value="Australia/Sydney" selected>' in body

    response = client.post(reverse("staff:profile"), {"timezone": ""}, follow=True)
    staff_member.refresh_from_db()
    assert staff_member.timezone == ""
    assert "now in the agency&#x27;s timezone, Europe/London." in response.content.decode()
    # Each change is audited with before and after; saving the same zone again is no change.
    client.post(reverse("staff:profile"), {"timezone": ""})
    changes = [
        e.data["changes"]["timezone"]
        for e in AuditEvent.objects.filter(
            action="staff.timezone_changed", target_id=str(staff_member.pk)
        ).order_by("id")
    ]
    assert changes == [
        {"before": None, "after": "Australia/Sydney"},
        {"before": "Australia/Sydney", "after": None},
    ]


def test_an_unknown_timezone_is_refused_with_a_clear_message(staff_member):
    client = signed_in(staff_member, reauthenticated=False)
    response = client.post(reverse("staff:profile"), {"timezone": "Mars/Olympus_Mons"})
    assert response.status_code == 200
    assert response.context["form"].errors["timezone"] == [
        "“Mars/Olympus_Mons” is not a known timezone. Pick one from the list, e.g. Europe/Berlin."
    ]
    assert "is not a known timezone" in response.content.decode()
    staff_member.refresh_from_db()
    assert staff_member.timezone == ""


def test_the_timezone_service_refuses_an_unknown_zone(staff_member):
    with pytest.raises(ValidationError, match="not a known IANA timezone"):
        services.user_change_timezone(user=staff_member, timezone_name="Europe/Atlantis")
    staff_member.refresh_from_db()
    assert staff_member.timezone == ""


def test_the_profile_refuses_a_post_without_csrf(staff_member):
    client = signed_in(staff_member, csrf_checks=True)
    response = client.post(reverse("staff:profile"), {"timezone": "Asia/Tokyo"})
    assert response.status_code == 403
    staff_member.refresh_from_db()
    assert staff_member.timezone == ""
