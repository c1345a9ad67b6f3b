"""The main client flow in a real browser: sign in, create a client, build its team, audit it."""

from __future__ import annotations

import re

import pytest

from apps.audit.models import AuditEvent
from apps.clients.models import Client
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_creates_a_client_builds_its_team_and_sees_the_audit_entry(page, live_server):
    from playwright.sync_api import expect

    from apps.staff.models import Role

    UserFactory(name="Ada Admin", email="ada@agency.example", role=Role.ADMIN)
    UserFactory(name="Priya Shah", email="priya@agency.example", role=Role.MANAGER)
    UserFactory(name="Leo Martins", email="leo@agency.example", role=Role.STAFF)

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("ada@agency.example")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page.get_by_role("heading", name=re.compile("Good to see you"))).to_be_visible()

    page.get_by_role("link", name="Clients", exact=True).click()
    expect(page.get_by_text("No clients yet")).to_be_visible()
    page.get_by_role("link", name="New client").first.click()
    page.get_by_label("Name").fill("Kumo Ramen")
    page.get_by_label("Timezone").select_option("Asia/Tokyo")
    page.get_by_label("Account manager").select_option(label="Priya Shah")
    page.get_by_role("button", name="Create client").click()

    expect(page.get_by_role("heading", name="Kumo Ramen")).to_be_visible()
    expect(page.get_by_text("Kumo Ramen was created.")).to_be_visible()
    page.get_by_label("Add a team member").select_option(label="Leo Martins")
    page.get_by_role("button", name="Add to team").click()
    expect(page.get_by_text("Leo Martins joined the team.")).to_be_visible()
    expect(page.locator("#team")).to_contain_text("leo@agency.example")

    page.get_by_role("link", name="Audit log").click()
    table = page.locator("table")
    expect(table).to_contain_text("client.created")
    expect(table).to_contain_text("client.member_added")
    expect(table).to_contain_text("Kumo Ramen")

    client = Client.objects.get(name="Kumo Ramen")
    assert client.timezone == "Asia/Tokyo"
    assert client.memberships.filter(user__email="leo@agency.example").exists()
    added = AuditEvent.objects.filter(client=client, action="client.member_added")
    assert sorted(e.data["user"] for e in added) == [
        "Leo Martins <leo@agency.example>",
        "Priya Shah <priya@agency.example>",
    ]


def test_a_duplicate_name_is_shown_beside_the_field(page, live_server, admin_user, client_obj):
    from playwright.sync_api import expect

    from tests.browser.conftest import sign_in_as

    sign_in_as(page, admin_user, live_server)
    page.goto("/clients/new/")
    page.get_by_label("Name").fill("northwind coffee")
    page.get_by_label("Timezone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Create client").click()
    expect(page.locator(".field-error")).to_contain_text("A client with this name already exists.")
    assert Client.objects.count() == 1
