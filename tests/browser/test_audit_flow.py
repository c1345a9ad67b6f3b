"""The audit trail in a real browser, at a desktop and a phone width: a manager filters the log,
opens an event, reads an account's history and a monthly report; an admin watches a chain
verification finish. axe-core checks every page (the fixtures), and nothing is wider than the
screen."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record, chain_verification_step
from apps.common import jobs
from apps.connections.lifecycle import account_transition
from apps.connections.models import State
from tests.browser.conftest import assert_accessible, sign_in_as
from tests.browser.test_accessibility import assert_fits
from tests.factories import ClientFactory, LinkedAccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1280, 390]


@pytest.fixture
def trail(admin_user, manager, staff_member, client_obj) -> dict[str, Any]:
    other = ClientFactory(name="Elsewhere Ltd")
    account = LinkedAccountFactory(client=client_obj, handle="northwind", external_id="nw-1")
    audit_record(
        action=AuditAction.MEMBERSHIP_ADDED,
        actor=manager,
        client=client_obj,
        target=staff_member,
        data={"user": staff_member.label},
    )
    audit_record(
        action=AuditAction.CLIENT_EDITED,
        actor=manager,
        client=client_obj,
        target=client_obj,
        data={"changes": {"notes": {"before": "Old brief", "after": "Winter campaign"}}},
    )
    account_transition(
        account=account,
        to=State.REVOKED_ON_PLATFORM,
        reason="The user removed the app in TikTok.",
        actor_label="webhook:tiktok",
    )
    audit_record(action=AuditAction.CLIENT_EDITED, actor=admin_user, client=other, target=other)
    return {"account": account, "other": other}


@pytest.mark.parametrize("width", WIDTHS)
def test_a_manager_filters_the_log_and_opens_an_event(
    new_context, live_server, manager, client_obj, trail, width
):
    from playwright.sync_api import expect

    page = new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in_as(page, manager, live_server)
    page.goto("/audit/")
    table = page.locator("table.audit-table")
    expect(table).to_contain_text("Revoked on the platform")
    expect(table).not_to_contain_text("Elsewhere Ltd")  # not their client
    assert_fits(page, "audit log")

    page.get_by_label("Kind").select_option(label="Connections")  # submits by itself
    page.wait_for_url(re.compile(r"group=connections"))
    expect(table.locator("tbody tr")).to_have_count(1)
    page.get_by_label("Kind").select_option(label="Every kind")
    page.wait_for_url(re.compile(r"group=&|group=$"))
    page.get_by_label("Search labels").fill("northwind")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"q=northwind"))
    expect(table).to_contain_text("Old brief")  # before …
    expect(table).to_contain_text("Winter campaign")  # … and after
    assert_accessible(page)

    table.locator("tbody tr").filter(has_text="Client edited").get_by_role("link").click()
    expect(page.get_by_role("heading", name="Client edited")).to_be_visible()
    expect(page.get_by_test_id("chain-verdict")).to_have_text("Link verifies")
    expect(page.locator("main")).to_contain_text("Winter campaign")
    assert_accessible(page)
    assert_fits(page, "audit event")

    page.goto(f"/audit/accounts/{trail['account'].pk}/")
    expect(page.get_by_test_id("revocation-verdict")).to_contain_text(
        "The brand removed the app on the platform"
    )
    assert_fits(page, "account history")

    today = timezone.localdate()
    page.goto(f"/audit/clients/{client_obj.slug}/report/{today.year}-{today.month}/")
    expect(page.get_by_role("button", name="Print or save as PDF")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Team member added")
    assert_fits(page, "monthly report")
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
    page.emulate_media(media="screen")


@pytest.mark.parametrize("width", WIDTHS)
def test_an_admin_watches_a_verification_finish(
    new_context, live_server, admin_user, trail, monkeypatch, width
):
    from playwright.sync_api import expect

    queued: list[int] = []
    monkeypatch.setattr(jobs, "async_task", lambda func, *args, **kw: queued.append(args[0]))
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in_as(page, admin_user, live_server)
    page.goto("/audit/")
    page.get_by_role("link", name="Verify the chain").click()
    page.get_by_role("button", name="Verify now").click()
    expect(page.locator("#run")).to_contain_text("events verified so far")
    assert_accessible(page)
    assert_fits(page, "verification running")

    chain_verification_step(verification_id=queued[0])  # the worker, meanwhile
    # The page polls every two seconds and stops once the verdict is in.
    expect(page.get_by_test_id("verdict")).to_contain_text("events verified", timeout=8000)
    expect(page.locator("#run")).not_to_have_attribute("hx-trigger", re.compile("every"))
    assert_accessible(page)
