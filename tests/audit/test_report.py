"""The monthly client report: connection changes, posts published and failed, access changes, in
the client's month and time zone; printable (a print stylesheet, no inline style)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.urls import reverse

from apps.audit.actions import AuditAction
from apps.audit.report import client_monthly_report
from apps.audit.services import audit_record
from apps.clients.services import client_membership_add, client_update
from apps.connections.lifecycle import account_transition
from apps.connections.models import State
from apps.publishing.models import TargetState
from apps.staff.models import Role
from tests.factories import LinkedAccountFactory, PublishTargetFactory, UserFactory

pytestmark = pytest.mark.django_db


def at(when: str):
    return time_machine.travel(datetime.fromisoformat(when), tick=False)


@pytest.fixture
def november(client_obj, manager, admin_user):
    """Northwind Coffee (Europe/London, moved to New York below) through November 2026."""
    client_obj.timezone = "America/New_York"
    client_obj.save()
    account = LinkedAccountFactory(client=client_obj, handle="northwind", external_id="nw")
    newcomer = UserFactory(name="Nia Newcomer", email="nia@agency.example", role=Role.STAFF)
    second_manager = UserFactory(name="Omar Other", email="omar@agency.example", role=Role.MANAGER)
    with at("2026-10-31T23:30:00-04:00"):  # still October in New York (03:30 UTC, 1 Nov)
        audit_record(action=AuditAction.CONNECTION_CHECKED, client=client_obj, target=account)
        account_transition(account=account, to=State.REFRESH_FAILING, reason="October blip")
    with at("2026-11-03T10:00:00-05:00"):
        account_transition(account=account, to=State.ACTIVE, reason="Back")
        for _ in range(3):
            audit_record(action=AuditAction.CONNECTION_CHECKED, client=client_obj, target=account)
    with at("2026-11-10T09:00:00-05:00"):
        client_membership_add(actor=admin_user, client=client_obj, user=newcomer)
    with at("2026-11-12T09:00:00-05:00"):
        client_update(
            actor=admin_user,
            client=client_obj,
            name=client_obj.name,
            timezone_name=client_obj.timezone,
            notes="Only the notes changed",
            account_manager=client_obj.account_manager,
        )
        client_update(
            actor=admin_user,
            client=client_obj,
            name=client_obj.name,
            timezone_name=client_obj.timezone,
            notes="Only the notes changed",
            account_manager=second_manager,
        )
    with at("2026-11-20T12:00:00-05:00"):
        audit_record(action=AuditAction.POST_SCHEDULED, actor=manager, client=client_obj)
        audit_record(action=AuditAction.POST_SCHEDULED, actor=manager, client=client_obj)
        audit_record(action=AuditAction.POST_CANCELLED, actor=manager, client=client_obj)
    published = PublishTargetFactory(
        crosspost__client=client_obj,
        crosspost__caption="Winter menu is here",
        linked_account=account,
        state=TargetState.PUBLISHED,
        published_at=datetime.fromisoformat("2026-11-21T08:00:00-05:00"),
        permalink="https://www.tiktok.com/@northwind/video/1",
    )
    failed = PublishTargetFactory(
        crosspost__client=client_obj,
        linked_account=account,
        state=TargetState.FAILED,
        state_changed_at=datetime.fromisoformat("2026-11-22T08:00:00-05:00"),
        last_error_message="The video is longer than this account may post.",
    )
    PublishTargetFactory(  # published in December: not November's
        crosspost__client=client_obj,
        linked_account=account,
        state=TargetState.PUBLISHED,
        published_at=datetime.fromisoformat("2026-12-01T00:30:00-05:00"),
    )
    with at("2026-12-01T00:10:00-05:00"):
        account_transition(account=account, to=State.NEEDS_RECONNECT, reason="December")
    return {
        "account": account,
        "published": published,
        "failed": failed,
        "manager2": second_manager,
    }


def test_it_gathers_the_clients_month_in_its_time_zone(client_obj, november):
    report = client_monthly_report(client=client_obj, month=date(2026, 11, 1))
    assert [e.data.get("reason") for e in report.connections.rows] == ["Back"]
    assert report.checks == 3  # counted, not listed; October's check is not November's
    assert [e.action for e in report.access.rows] == [
        "client.member_added",
        "client.edited",  # the edit that changed the account manager, not the notes-only one
        "client.member_added",  # the new account manager joins the team
    ]
    assert report.published.rows == [november["published"]]
    assert report.failed.rows == [november["failed"]]
    assert report.post_counts == [("Post cancelled", 1), ("Post scheduled", 2)]
    assert (report.previous_month, report.next_month) == (date(2026, 10, 1), date(2026, 12, 1))


def test_the_page_reads_as_a_report(client, manager, client_obj, november):
    client.force_login(manager)
    response = client.get(reverse("audit:report", args=[client_obj.slug, 2026, 11]))
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "Northwind Coffee: November 2026",
        "America/New_York",
        "Account healthy again",
        "Winter menu is here",
        "The video is longer than this account may post.",
        "Team member added",
        "Max Manager",  # the account manager before …
        "Omar Other",  # … and after
        "3 routine health checks not listed",
    ):
        assert text in body, text
    assert "css/print.css" in body and 'media="print"' in body
    assert "style=" not in body  # strict CSP: no inline styles
    assert "data-print" in body


def test_it_moves_between_months(client, manager, client_obj):
    client.force_login(manager)
    body = client.get(reverse("audit:report", args=[client_obj.slug, 2026, 1])).content.decode()
    assert reverse("audit:report", args=[client_obj.slug, 2025, 12]) in body
    assert reverse("audit:report", args=[client_obj.slug, 2026, 2]) in body
    assert "Nothing was published this month." in body
    assert client.get(reverse("audit:report", args=[client_obj.slug, 2026, 13])).status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin_user", 200), ("manager", 200), ("staff_member", 200), ("outsider", 404)],
)
def test_who_may_read_the_report(client, request, client_obj, role, status):
    client.force_login(request.getfixturevalue(role))
    url = reverse("audit:report", args=[client_obj.slug, 2026, 11])
    assert client.get(url).status_code == status


def test_the_timeline_links_to_this_months_report(client, manager, client_obj):
    client.force_login(manager)
    with at("2026-11-15T12:00:00+00:00"):
        body = client.get(reverse("audit:client", args=[client_obj.slug])).content.decode()
    assert reverse("audit:report", args=[client_obj.slug, 2026, 11]) in body
