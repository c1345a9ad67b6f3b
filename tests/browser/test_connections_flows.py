"""Connections in a real browser against the sandbox on the live server: connect both platforms
through the consent pages, watch a platform-side removal reach the dashboard by itself, land on
the mismatch page, and let a brand complete a connect link with no staff session.

Screenshots go to /tmp/switchboard-shots/ (never into the repository).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from apps.connections.models import ConnectLink, LinkedAccount, State
from apps.connections.services import disconnect
from tests.connections import conftest as connections_conftest
from tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The sandbox on the live server (clients, webhook targets and PUBLIC_BASE_URL pointed there),
# shared with tests/connections.
sandbox = connections_conftest.sandbox

SHOTS = Path("/tmp/switchboard-shots")
HANDLES = {"tiktok": "@sbx.creator", "instagram": "@sbx_business"}


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, user: Any) -> None:
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page.get_by_role("heading", name=re.compile("Good to see you"))).to_be_visible()


def assert_not_asked_to_reauthenticate(page: Any) -> None:
    """Connect, disconnect and connect links need a recent authentication (DESIGN §1); signing
    in through the form minutes ago is one, so no password prompt comes in between."""
    page.wait_for_load_state()
    assert "/accounts/reauthenticate/" not in page.url


def consent(page: Any, handle: str) -> None:
    """On the sandbox's sign-in and consent page: pick the account and authorize."""
    page.wait_for_url(re.compile(r"/_emulator/(tiktok|instagram)/"))
    page.get_by_role("radio", name=re.compile(re.escape(handle))).check()
    page.get_by_role("button", name="Authorize").click()


def connect(page: Any, client: Any, platform: str, label: str) -> LinkedAccount:
    from playwright.sync_api import expect

    page.goto(f"/clients/{client.slug}/")
    page.get_by_role("button", name=f"Connect {label}").click()
    assert_not_asked_to_reauthenticate(page)
    consent(page, HANDLES[platform])
    # Instagram appends "#_" to its redirect; browsers keep a fragment across our redirect.
    page.wait_for_url(re.compile(r"/connections/\d+/(#_)?$"))
    expect(page.get_by_test_id("state-badge")).to_have_text("Active")
    return LinkedAccount.objects.get(client=client, platform=platform)


def test_connect_tiktok_and_instagram_and_see_both_active(page, sandbox, manager, client_obj):
    from playwright.sync_api import expect

    sign_in(page, manager)
    tiktok = connect(page, client_obj, "tiktok", "TikTok")
    expect(page.get_by_text("TikTok @sbx.creator is connected.")).to_be_visible()
    connect(page, client_obj, "instagram", "Instagram")

    page.goto(f"/clients/{client_obj.slug}/")
    rows = page.locator("#accounts .account-row")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="TikTok @sbx.creator")).to_contain_text("Active")
    expect(rows.filter(has_text="Instagram @sbx_business")).to_contain_text("Active")
    expect(rows.filter(has_text="TikTok @sbx.creator")).to_contain_text("Checked")
    shot(page, "a-client-page-both-active")
    assert tiktok.connected_by == manager


def test_a_removal_on_the_platform_reaches_the_dashboard_without_reloading(
    page, sandbox, manager, client_obj
):
    from playwright.sync_api import expect

    sign_in(page, manager)
    account = connect(page, client_obj, "tiktok", "TikTok")
    page.goto("/")
    expect(page.locator("#health-panel")).to_contain_text("All connections look healthy")
    page.evaluate("window.__notReloaded = true")

    sandbox.action("tt-public", "remove_app")

    attention = page.get_by_test_id("needs-attention")
    expect(attention).to_contain_text("Northwind Coffee", timeout=15_000)
    expect(attention.locator(".badge").first).to_have_text("Revoked on platform")
    revoked_row = page.locator('[data-testid="health-counts"] tr[data-state="revoked_on_platform"]')
    expect(revoked_row.get_by_role("cell").first).to_have_text("1")  # TikTok's column
    expect(page.get_by_test_id("health-summary")).to_have_text("1 account · 0 active")
    assert page.evaluate("window.__notReloaded") is True  # htmx swapped it in, no reload
    shot(page, "b-dashboard-revoked-on-platform")
    page.get_by_test_id("needs-attention").get_by_role("link").first.click()
    expect(page.get_by_test_id("state-badge")).to_have_text("Revoked on platform")
    shot(page, "b-account-page-revoked")
    account.refresh_from_db()
    assert account.state == State.REVOKED_ON_PLATFORM


def test_reconnecting_with_the_wrong_account_lands_on_the_mismatch_page(
    page, sandbox, staff_member, client_obj
):
    from playwright.sync_api import expect

    sign_in(page, staff_member)
    account = connect(page, client_obj, "tiktok", "TikTok")
    page.get_by_role("button", name="Reconnect").click()
    assert_not_asked_to_reauthenticate(page)
    consent(page, "@sbx.private")

    page.wait_for_url(re.compile(r"/connections/mismatch/\d+/$"))
    expect(page.get_by_role("heading", name="A different account came back")).to_be_visible()
    expect(page.locator("main")).to_contain_text("@sbx.creator")
    expect(page.locator("main")).to_contain_text("@sbx.private")
    shot(page, "c-mismatch")

    page.get_by_role("button", name=re.compile("Cancel")).click()
    expect(page.get_by_text("Nothing was changed.")).to_be_visible()
    assert LinkedAccount.objects.get() == account  # nothing attached


def test_a_brand_completes_a_connect_link_without_a_staff_session(
    page, new_context, sandbox, manager, client_obj, settings
):
    from playwright.sync_api import expect

    settings.AGENCY_NAME = "Northstar Social"
    sign_in(page, manager)
    page.goto(f"/clients/{client_obj.slug}/")
    links = page.locator("#connect-links")
    links.get_by_label("Platform").select_option("instagram")
    links.get_by_label(re.compile("Email to")).fill("owner@northwind.example")
    links.get_by_role("button", name="Create link").click()
    assert_not_asked_to_reauthenticate(page)
    link_url = page.get_by_test_id("new-connect-link").inner_text().strip()
    assert "/connect/" in link_url

    # One click copies it, and the page says so (to screen readers too: a status region).
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    status = page.get_by_role("status").filter(has_text="Copied")
    expect(status).to_have_count(0)
    page.get_by_role("button", name="Copy link").click()
    expect(status).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link_url
    shot(page, "d-link-created")

    brand = new_context().new_page()  # the brand's own device: no cookies at all
    brand.goto(link_url)
    expect(
        brand.get_by_role("heading", name="Connect Northwind Coffee's Instagram account")
    ).to_be_visible()
    expect(brand.locator("main")).to_contain_text(
        "Northstar Social asks you to connect Northwind Coffee's Instagram account"
    )
    expect(brand.locator("body")).not_to_contain_text(manager.name)
    shot(brand, "d-link-landing")
    brand.get_by_role("button", name="Continue to Instagram").click()
    consent(brand, "@sbx_business")
    expect(brand.get_by_role("heading", name=re.compile("Thank you"))).to_be_visible()
    expect(brand.locator("body")).to_contain_text("Northwind Coffee")
    shot(brand, "d-link-thank-you")

    page.goto(f"/clients/{client_obj.slug}/")
    row = page.locator("#accounts .account-row").filter(has_text="Instagram @sbx_business")
    expect(row).to_contain_text("Active")
    expect(page.locator("#connect-links")).to_contain_text("Used")
    shot(page, "d-client-page-after-link")
    account = LinkedAccount.objects.get()
    assert account.connected_by is None
    assert account.connected_via_link == ConnectLink.objects.get()


def test_the_account_page_follows_a_disconnect_until_it_settles(page, sandbox, manager, client_obj):
    from playwright.sync_api import expect

    sign_in(page, manager)
    account = connect(page, client_obj, "tiktok", "TikTok")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Disconnect").click()
    assert_not_asked_to_reauthenticate(page)
    expect(page.get_by_test_id("state-badge")).to_have_text("Disconnect pending")
    page.evaluate("window.__notReloaded = true")

    disconnect.account_revoke_at_platform(account_id=account.pk)  # the worker's part

    expect(page.get_by_test_id("state-badge")).to_have_text("Disconnected", timeout=10_000)
    expect(page.locator("#state")).to_contain_text("revoked")  # platform side, confirmed
    expect(page.locator("#history")).to_contain_text("Disconnected")
    assert page.evaluate("window.__notReloaded") is True  # htmx swapped it in, no reload
    shot(page, "e-account-page-disconnected")

    # Settled: the polling stops.
    expect(page.locator("#state")).not_to_have_attribute("hx-trigger", re.compile("."))
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url))
    page.wait_for_timeout(3_500)  # longer than the 3 s polling interval
    assert polls == []
