"""The role handoff in a real browser, at a desktop and a phone width: an admin hands a departing
account manager's clients to a colleague, confirms with their password, and prints the report.
axe-core checks every page (the fixtures), and nothing is wider than the screen.

Screenshots of each step go to /tmp/switchboard-shots/ (never into the repository).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from apps.clients.models import Client, ClientMembership
from apps.connections.models import ConnectLink
from apps.publishing.models import CrossPost
from apps.staff.models import User
from tests.browser.conftest import assert_accessible, sign_in_as
from tests.browser.test_accessibility import assert_fits
from tests.connections.helpers import captured_tasks
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.staff.handoff_helpers import build_book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/switchboard-shots")
WIDTHS = [1280, 390]


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def look(page: Any, name: str) -> None:
    """Screenshot, axe and width checks of the page as it is now."""
    shot(page, name)
    assert_accessible(page)
    assert_fits(page, name)


@pytest.mark.parametrize("width", WIDTHS)
def test_an_admin_hands_over_a_departing_managers_clients(
    new_context, live_server, admin_user, manager, staff_member, client_obj, other_manager, width
):
    from playwright.sync_api import expect

    book = build_book(
        admin=admin_user, departing=manager, northwind=client_obj, teammate=staff_member
    )
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in_as(page, admin_user, live_server)  # signed in a while ago: the password is asked

    page.goto("/staff/")
    page.get_by_role("link", name="Hand over clients").click()
    expect(page.get_by_role("heading", name="Hand over clients")).to_be_visible()
    expect(page.get_by_text("No handoffs yet")).to_be_visible()
    look(page, f"handoff-1-who-{width}")
    page.get_by_label("Hand over from").select_option(label="Max Manager · Account manager")
    page.get_by_label("To", exact=True).select_option(label="Mia Othermanager · Account manager")
    page.get_by_role("button", name="Next: what they hold").click()

    expect(page.get_by_role("heading", name="What Max Manager holds")).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text("3 clients · 2 scheduled posts · 1 open connect link")
    expect(page.get_by_label("Northwind Coffee")).to_be_checked()
    look(page, f"handoff-2-holds-{width}")
    page.get_by_label("Harbor Lights Hotel").uncheck()
    page.get_by_label(re.compile("Deactivate Max Manager")).check()
    page.get_by_role("button", name="Next: confirm").click()

    expect(page.get_by_role("heading", name="Confirm the handoff")).to_be_visible()
    expect(main).to_contain_text("Account manager: Max Manager → Mia Othermanager")
    expect(main).to_contain_text("Stays with Max Manager")
    expect(main).to_contain_text("Max Manager is deactivated")
    look(page, f"handoff-3-confirm-{width}")
    with captured_tasks() as tasks:
        page.get_by_role("button", name="Hand over now").click()
        page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_role("heading", name="Handoff report")).to_be_visible()
    expect(main).to_contain_text("Handoff from Max Manager to Mia Othermanager is complete.")
    expect(main).to_contain_text("Deactivated, 0 sessions ended")
    expect(main).to_contain_text("Instagram @kumo.ramen")  # its health check was queued
    look(page, f"handoff-4-report-{width}")

    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
    shot(page, f"handoff-4-report-print-{width}")
    page.emulate_media(media="screen")

    assert not User.objects.get(pk=manager.pk).is_active
    for client in (book.northwind, book.kumo):
        assert Client.objects.get(pk=client.pk).account_manager == other_manager
    assert ClientMembership.objects.filter(client=book.harbor, user=manager).exists()
    assert CrossPost.objects.get(pk=book.kumo_post.pk).created_by == other_manager
    assert ConnectLink.objects.get(pk=book.northwind_link.pk).revoked_at is not None
    assert {args[0] for name, args in tasks if name.endswith("check_account")} == {
        book.northwind_account.pk,
        book.kumo_account.pk,
    }

    # The report is one click from the log and from the wizard's first page.
    page.goto("/staff/handoff/")
    page.get_by_role("link", name=re.compile("Report")).click()
    expect(page.get_by_role("heading", name="Handoff report")).to_be_visible()
    page.get_by_role("link", name="In the audit log").click()
    expect(page.get_by_role("heading", name="Handoff completed")).to_be_visible()
    page.get_by_role("link", name="Handoff report").click()
    expect(page.get_by_role("heading", name="Handoff report")).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_wizards_quiet_and_blocked_pages(
    new_context, live_server, admin_user, manager, staff_member, client_obj, width
):
    """Someone who holds nothing, and a receiver whose role can't take a manager's place."""
    from playwright.sync_api import expect

    nina = UserFactory(name="Nina New", email="nina@agency.example")
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in_as(page, admin_user, live_server)

    page.goto(f"/staff/handoff/review/?departing={nina.pk}&receiving={manager.pk}")
    expect(page.get_by_role("heading", name="Nothing to hand over")).to_be_visible()
    look(page, f"handoff-2-empty-{width}")

    page.goto(f"/staff/handoff/review/?departing={manager.pk}&receiving={staff_member.pk}")
    expect(page.get_by_role("note")).to_contain_text("Sam Staff can't become account manager.")
    look(page, f"handoff-2-blocked-{width}")
    page.get_by_role("button", name="Next: confirm").click()
    expect(page.get_by_role("alert")).to_contain_text("This handoff can't go ahead yet.")
    expect(page.get_by_role("button", name="Hand over now")).to_have_count(0)
    look(page, f"handoff-3-blocked-{width}")
