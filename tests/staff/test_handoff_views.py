"""The handoff wizard's pages: who may open them, what each step shows, the report and print."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.audit.actions import AuditAction
from apps.audit.models import AuditEvent
from apps.clients.models import ClientMembership
from apps.staff.handoff.forms import Plan
from apps.staff.handoff.selectors import handoff_holdings
from apps.staff.handoff.services import handoff_complete
from apps.staff.models import Role, User
from tests.factories import (
    ClientFactory,
    ConnectLinkFactory,
    CrossPostFactory,
    LinkedAccountFactory,
    MembershipFactory,
    PublishTargetFactory,
)
from tests.staff.handoff_helpers import Book, build_book
from tests.staff.helpers import enrol_totp, signed_in

pytestmark = pytest.mark.django_db

REAUTHENTICATE = reverse("account_reauthenticate")


@pytest.fixture
def book(admin_user, manager, staff_member, client_obj) -> Book:
    return build_book(
        admin=admin_user, departing=manager, northwind=client_obj, teammate=staff_member
    )


def query(**params) -> str:
    return "?" + urlencode(params, doseq=True)


def plan_for(book: Book, receiving: User, clients, *, deactivate: bool = False) -> Plan:
    return Plan(
        departing_id=book.departing.pk,
        receiving_id=receiving.pk,
        client_ids=tuple(c.pk for c in clients),
        deactivate=deactivate,
        seen=handoff_holdings(departing=book.departing, receiving=receiving).snapshot(),
    )


def page_urls(book: Book, receiving: User) -> dict[str, str]:
    people = {"departing": book.departing.pk, "receiving": receiving.pk}
    return {
        "start": reverse("staff:handoff"),
        "review": reverse("staff:handoff_review") + query(**people),
        "confirm": reverse("staff:handoff_confirm") + query(**people, client=[book.kumo.pk]),
    }


# --- Who may open them --------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["start", "review", "confirm"])
@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("manager", 404), ("staff", 404), ("anonymous", 302)],
)
def test_only_admins_open_the_wizard(
    book, admin_user, other_manager, staff_member, step, role, status
):
    url = page_urls(book, other_manager)[step]
    users = {"admin": admin_user, "manager": other_manager, "staff": staff_member}
    http = signed_in(users[role], reauthenticated=False) if role in users else HttpClient()
    response = http.get(url)
    assert response.status_code == status
    if role == "anonymous":
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 302), ("manager", 404), ("staff", 404), ("anonymous", 302)],
)
def test_only_admins_run_a_handoff_and_only_after_a_fresh_password(
    book, admin_user, other_manager, staff_member, role, status
):
    users = {"admin": admin_user, "manager": other_manager, "staff": staff_member}
    http = signed_in(users[role], reauthenticated=False) if role in users else HttpClient()
    plan = plan_for(book, other_manager, [book.kumo])
    response = http.post(reverse("staff:handoff_run"), {"plan": plan.sign()})
    assert response.status_code == status
    if role == "admin":
        assert response["Location"].startswith(REAUTHENTICATE)
    if role == "anonymous":
        assert "/accounts/login/" in response["Location"]
    assert not AuditEvent.objects.filter(action=AuditAction.HANDOFF_COMPLETED).exists()


def test_the_password_prompt_resumes_the_handoff(book, admin_user, other_manager):
    http = signed_in(admin_user, reauthenticated=False)
    plan = plan_for(book, other_manager, [book.kumo])
    prompt = http.post(reverse("staff:handoff_run"), {"plan": plan.sign()})
    assert prompt["Location"].startswith(REAUTHENTICATE)
    resumed = http.post(
        prompt["Location"], {"password": "correct-horse-battery-staple"}, follow=False
    )
    event = AuditEvent.objects.get(action=AuditAction.HANDOFF_COMPLETED)
    assert resumed.status_code == 302
    assert resumed["Location"] == reverse("staff:handoff_report", args=[event.pk])


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("manager", 404), ("staff", 404), ("anonymous", 302)],
)
def test_only_admins_read_a_report(book, admin_user, other_manager, staff_member, role, status):
    event = handoff_complete(
        actor=admin_user,
        departing=book.departing,
        receiving=other_manager,
        client_ids=[book.kumo.pk],
    )
    users = {"admin": admin_user, "manager": book.departing, "staff": staff_member}
    http = signed_in(users[role], reauthenticated=False) if role in users else HttpClient()
    assert http.get(reverse("staff:handoff_report", args=[event.pk])).status_code == status


def test_the_report_of_anything_but_a_handoff_is_not_found(admin_user, client_obj):
    other = AuditEvent.objects.filter(action=AuditAction.CLIENT_CREATED).first()
    pk = other.pk if other else 999_999
    assert signed_in(admin_user).get(reverse("staff:handoff_report", args=[pk])).status_code == 404


# --- The steps ----------------------------------------------------------------------------------


def test_the_staff_page_leads_to_the_wizard(admin_user):
    page = signed_in(admin_user).get(reverse("staff:list")).content.decode()
    assert reverse("staff:handoff") in page and "Hand over clients" in page


def test_step_one_refuses_the_same_person_twice(book, admin_user):
    response = signed_in(admin_user).get(
        reverse("staff:handoff_review")
        + query(departing=book.departing.pk, receiving=book.departing.pk)
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Pick someone other than the person handing over." in body
    assert "Who hands over to whom?" in body


def test_step_one_offers_only_active_people_to_receive(book, admin_user, outsider):
    outsider.is_active = False
    outsider.save()
    body = signed_in(admin_user).get(reverse("staff:handoff")).content.decode()
    receiving = body[body.index('name="receiving"') :].split("</select>")[0]
    departing = body[body.index('name="departing"') :].split("</select>")[0]
    assert "Olive Outsider" not in receiving
    assert "Olive Outsider · Staff (deactivated)" in departing
    assert "No handoffs yet" in body


def test_step_two_shows_what_they_hold(book, admin_user, other_manager):
    body = signed_in(admin_user).get(page_urls(book, other_manager)["review"]).content.decode()
    assert "What Max Manager holds" in body
    for name in ("Northwind Coffee", "Kumo Ramen", "Harbor Lights Hotel"):
        assert name in body
    assert "Elsewhere Ltd" not in body
    assert body.count('name="client"') == 3 and body.count("checked") >= 3
    assert "1 open connect link</strong> is revoked" in body
    assert "TikTok @northwind (active)" in body
    assert "Deactivate Max Manager and sign them out everywhere" in body


def test_step_two_explains_that_staff_cannot_become_account_manager(book, admin_user, outsider):
    body = signed_in(admin_user).get(page_urls(book, outsider)["review"]).content.decode()
    assert "Olive Outsider can't become account manager." in body
    assert "Kumo Ramen, Northwind Coffee" in body


def test_step_two_has_a_calm_empty_state(admin_user, other_manager, outsider):
    body = (
        signed_in(admin_user)
        .get(
            reverse("staff:handoff_review")
            + query(departing=outsider.pk, receiving=other_manager.pk)
        )
        .content.decode()
    )
    assert "Nothing to hand over" in body
    assert "You can still deactivate them below." in body


def test_step_two_says_why_the_last_admin_cannot_be_deactivated(admin_user, manager):
    body = (
        signed_in(admin_user)
        .get(reverse("staff:handoff_review") + query(departing=admin_user.pk, receiving=manager.pk))
        .content.decode()
    )
    assert "Ada Admin is the last active admin, so they can't be deactivated." in body
    assert 'name="deactivate"' not in body


def test_step_three_asks_to_choose_something(book, admin_user, other_manager):
    people = {"departing": book.departing.pk, "receiving": other_manager.pk}
    body = (
        signed_in(admin_user)
        .get(reverse("staff:handoff_confirm") + query(**people))
        .content.decode()
    )
    assert "Choose at least one client, or deactivate them" in body


def test_step_three_summarises_the_choice_and_carries_a_signed_plan(
    book, admin_user, other_manager
):
    url = reverse("staff:handoff_confirm") + query(
        departing=book.departing.pk,
        receiving=other_manager.pk,
        client=[book.kumo.pk, book.harbor.pk],
        deactivate="on",
    )
    body = signed_in(admin_user).get(url).content.decode()
    assert "Account manager: Max Manager" in body
    assert "Max Manager is deactivated</strong> and signed out of every session" in body
    assert "Stays with Max Manager" in body and "Northwind Coffee." in body
    plan = Plan.unsign(re.search(r'name="plan" value="([^"]+)"', body).group(1))
    assert plan.client_ids == tuple(sorted([book.kumo.pk, book.harbor.pk]))
    assert plan.deactivate and book.northwind_link.pk in plan.seen.links


def test_step_three_blocks_a_receiver_who_cannot_manage(book, admin_user, outsider):
    url = reverse("staff:handoff_confirm") + query(
        departing=book.departing.pk, receiving=outsider.pk, client=[book.kumo.pk]
    )
    body = signed_in(admin_user).get(url).content.decode()
    assert "This handoff can't go ahead yet." in body
    assert "Hand over now" not in body


def test_a_tampered_plan_moves_nothing(book, admin_user, other_manager):
    signed = plan_for(book, other_manager, [book.kumo]).sign()
    http = signed_in(admin_user)
    response = http.post(reverse("staff:handoff_run"), {"plan": signed[:-2] + "xx"}, follow=True)
    assert "This handoff could not be read." in response.content.decode()
    assert ClientMembership.objects.filter(client=book.kumo, user=book.departing).exists()


def test_a_refused_handoff_says_why_and_moves_nothing(admin_user, manager, client_obj):
    http = signed_in(admin_user)
    ClientMembership.objects.create(client=client_obj, user=admin_user)
    plan = Plan(
        departing_id=admin_user.pk,
        receiving_id=manager.pk,
        client_ids=(client_obj.pk,),
        deactivate=True,
        seen=handoff_holdings(departing=admin_user).snapshot(),
    )
    response = http.post(reverse("staff:handoff_run"), {"plan": plan.sign()}, follow=True)
    body = response.content.decode()
    assert "Ada Admin is the last active admin and cannot be deactivated." in body
    assert "Nothing was moved." in body
    assert ClientMembership.objects.filter(client=client_obj, user=admin_user).exists()


def test_confirming_runs_the_handoff_and_shows_the_report(book, admin_user, other_manager):
    http = signed_in(admin_user)
    plan = plan_for(book, other_manager, [book.northwind, book.kumo])
    response = http.post(reverse("staff:handoff_run"), {"plan": plan.sign()}, follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0].startswith("/staff/handoffs/")
    assert "Handoff from Max Manager to Mia Othermanager is complete." in body
    assert "Account manager" in body and "Owner of post" in body and "Revoked" in body
    assert "TikTok @northwind" in body  # queued for a check
    # Submitting the same page again changes nothing more.
    again = http.post(reverse("staff:handoff_run"), {"plan": plan.sign()}, follow=True)
    assert "This handoff was already done; here is its report." in again.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.HANDOFF_COMPLETED).count() == 1


def test_handing_over_and_deactivating_yourself_signs_you_out(admin_user, manager, client_obj):
    User.objects.create_user(email="olga@agency.example", name="Olga", role=Role.ADMIN)
    ClientMembership.objects.create(client=client_obj, user=admin_user)
    http = signed_in(admin_user)
    plan = Plan(
        departing_id=admin_user.pk,
        receiving_id=manager.pk,
        client_ids=(client_obj.pk,),
        deactivate=True,
        seen=handoff_holdings(departing=admin_user).snapshot(),
    )
    response = http.post(reverse("staff:handoff_run"), {"plan": plan.sign()})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not User.objects.get(pk=admin_user.pk).is_active


# --- The report ---------------------------------------------------------------------------------


def test_the_report_prints(book, admin_user, other_manager):
    event = handoff_complete(
        actor=admin_user,
        departing=book.departing,
        receiving=other_manager,
        client_ids=[book.northwind.pk],
        deactivate=True,
    )
    body = (
        signed_in(admin_user).get(reverse("staff:handoff_report", args=[event.pk])).content.decode()
    )
    assert re.search(r'<link rel="stylesheet" href="[^"]*css/print\.[^"]*css" media="print">', body)
    assert "data-print" in body and "Print or save as PDF" in body
    assert "Handoff report" in body and event.data["handoff_id"] in body
    assert "Max Manager &lt;max@agency.example&gt;" in body  # who
    assert "Ada Admin &lt;ada@agency.example&gt;" in body  # by whom
    assert "Deactivated, 0 sessions ended" in body
    for change_id in event.data["change_event_ids"]:
        assert reverse("audit:event", args=[change_id]) in body


def test_the_completed_event_links_to_its_report(book, admin_user, other_manager):
    event = handoff_complete(
        actor=admin_user,
        departing=book.departing,
        receiving=other_manager,
        client_ids=[book.kumo.pk],
    )
    body = signed_in(admin_user).get(reverse("audit:event", args=[event.pk])).content.decode()
    assert reverse("staff:handoff_report", args=[event.pk]) in body
    start = signed_in(admin_user).get(reverse("staff:handoff")).content.decode()
    assert reverse("staff:handoff_report", args=[event.pk]) in start  # recent handoffs


# --- Promotion to admin and MFA ----------------------------------------------------------------


@override_settings(MFA_REQUIRED_FOR_ADMINS=True)
def test_a_freshly_promoted_admin_sets_up_mfa_before_any_admin_page(admin_user, manager):
    admin = signed_in(admin_user)
    enrol_totp(admin)
    promoted = signed_in(manager)  # already signed in when promoted
    assert promoted.get(reverse("dashboard")).status_code == 200

    response = admin.post(reverse("staff:role", args=[manager.pk]), {"role": Role.ADMIN})
    assert response.status_code == 302
    assert User.objects.get(pk=manager.pk).role == Role.ADMIN

    for url in (reverse("staff:list"), reverse("staff:handoff"), reverse("audit:list")):
        response = promoted.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("mfa_activate_totp")
    enrol_totp(promoted)
    assert promoted.get(reverse("staff:handoff")).status_code == 200


def test_what_they_hold_costs_the_same_however_much_they_hold(book, admin_user, other_manager):
    http = signed_in(admin_user)
    url = page_urls(book, other_manager)["review"]
    http.get(url)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert http.get(url).status_code == 200
        return len(captured)

    before = queries()
    for i in range(6):
        client = ClientFactory(account_manager=book.departing)
        MembershipFactory(client=client, user=book.departing)
        account = LinkedAccountFactory(
            client=client, external_id=f"more-{i}", connected_by=book.departing
        )
        post = CrossPostFactory(client=client, created_by=book.departing)
        PublishTargetFactory(crosspost=post, linked_account=account)
        ConnectLinkFactory(client=client, created_by=book.departing)
    assert queries() == before
