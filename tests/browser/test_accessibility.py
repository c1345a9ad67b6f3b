"""Every page staff or a brand can reach, at a desktop and a phone width (1280 and 390 px): axe-core
finds no serious or critical problem (the `page` fixtures check each document too), nothing is
wider than the screen, and on phones the opened menu passes as well (DESIGN §11).

Screenshots of the main pages go to /tmp/switchboard-shots/ (never into the repository).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from apps.clients.services import client_create
from apps.connections.models import Capability, ConnectLink, LinkedAccount, State
from apps.connections.services.links import connect_link_create, connect_link_revoke
from apps.publishing.models import CrossPost, TargetState
from apps.staff.models import Role
from apps.staff.services import invitation_create, user_deactivate
from tests.browser.conftest import assert_accessible
from tests.factories import (
    DEFAULT_PASSWORD,
    CredentialFactory,
    CrossPostFactory,
    LinkedAccountFactory,
    PublishAttemptFactory,
    PublishTargetFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/switchboard-shots")
WIDTHS = [1280, 390]
DAY = 24 * 3600


def link_path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


@pytest.fixture
def seeded(admin_user, manager, staff_member, client_obj, settings) -> dict[str, Any]:
    """Accounts in every state and capability, links, invitations and audit entries, so that
    every kind of badge, message and row is on screen somewhere."""
    settings.AGENCY_NAME = "Northstar Social"
    now = timezone.now()
    kumo = client_create(
        actor=admin_user,
        name="Kumo Ramen",
        timezone_name="Asia/Tokyo",
        notes="Launch in spring.",
        account_manager=manager,
    )

    def account(client: Any, platform: str, handle: str, **fields: Any) -> LinkedAccount:
        fields.setdefault("last_checked_at", now - timedelta(minutes=5))
        fields.setdefault("last_ok_at", now - timedelta(minutes=5))
        fields.setdefault("display_name", handle.title())
        fields.setdefault("granted_scopes", ["user.info.basic", "video.publish"])
        return LinkedAccountFactory(
            client=client, platform=platform, handle=handle, external_id=handle, **fields
        )

    accounts = {
        "active": account(client_obj, "tiktok", "northwind", state_reason="Connected"),
        "missing_scope": account(
            client_obj,
            "instagram",
            "northwind.coffee",
            state_reason="Connected",
            publish_capability=Capability.MISSING_SCOPE,
            capability_reason="Instagram didn't grant instagram_business_content_publish.",
        ),
        "refresh_failing": account(
            kumo,
            "tiktok",
            "kumo",
            state=State.REFRESH_FAILING,
            state_reason="TikTok answered 503; retrying",
            last_ok_at=now - timedelta(hours=30),
            last_error_message="Service unavailable",
            publish_capability=Capability.QUOTA_EXHAUSTED,
            capability_reason="Daily cap reached",
            capability_until=now + timedelta(hours=5),
        ),
        "needs_reconnect": account(
            kumo,
            "instagram",
            "kumo.ramen",
            state=State.NEEDS_RECONNECT,
            state_reason="Password changed on Instagram",
            last_error_message="Error validating access token",
        ),
        "revoked": account(
            kumo, "tiktok", "kumo.old", state=State.REVOKED_ON_PLATFORM, state_reason="App removed"
        ),
        "disconnect_pending": account(
            kumo, "instagram", "kumo.gone", state=State.DISCONNECT_PENDING, state_reason="Removed"
        ),
        "disconnected": account(
            client_obj,
            "tiktok",
            "northwind.old",
            state=State.DISCONNECTED,
            state_reason="Disconnected",
            disconnected_at=now - timedelta(days=3),
        ),
    }
    CredentialFactory(account=accounts["active"], refresh_expires_in=5 * DAY)  # expiring
    CredentialFactory(account=accounts["missing_scope"], refresh=None, expires_in=50 * DAY)
    CredentialFactory(account=accounts["refresh_failing"])

    _, open_url = connect_link_create(
        client=client_obj, platform="tiktok", actor=manager, email="owner@northwind.example"
    )
    used, used_url = connect_link_create(client=client_obj, platform="instagram", actor=manager)
    ConnectLink.objects.filter(pk=used.pk).update(
        used_at=now, used_account=accounts["missing_scope"]
    )
    revoked, _ = connect_link_create(client=client_obj, platform="tiktok", actor=manager)
    connect_link_revoke(link=revoked, actor=manager)

    invitation_create(
        email="nia@agency.example", role=Role.MANAGER, invited_by=admin_user, base_url="http://x"
    )
    leaving = UserFactory(name="Lee Leaving", email="lee@agency.example")
    user_deactivate(user=leaving, actor=admin_user)
    mail.outbox.clear()

    # Posts: one due soon with options and findings, one partly published, one draft.
    soon = CrossPostFactory(client=client_obj, scheduled_at=now + timedelta(hours=3))
    PublishTargetFactory(
        crosspost=soon,
        linked_account=accounts["active"],
        options={"privacy_level": "FOLLOWER_OF_CREATOR", "allow_comment": True},
    )
    PublishTargetFactory(
        crosspost=soon,
        linked_account=accounts["missing_scope"],
        findings=[
            {
                "platform": "instagram",
                "rule": "account.capability",
                "severity": "error",
                "message": "This account can't publish: Instagram didn't grant publishing.",
                "fix": "Reconnect the account and allow publishing.",
                "fix_url": f"/connections/{accounts['missing_scope'].pk}/",
            }
        ],
    )
    done = CrossPostFactory(
        client=client_obj,
        scheduled_at=now - timedelta(hours=1),
        status=CrossPost.Status.PARTIALLY_PUBLISHED,
        caption_overrides={"instagram": "Our own words for Instagram"},
    )
    PublishTargetFactory(
        crosspost=done,
        linked_account=accounts["missing_scope"],
        state=TargetState.PUBLISHED,
        permalink="https://www.instagram.com/reel/abc/",
    )
    failed = PublishTargetFactory(
        crosspost=done,
        linked_account=accounts["active"],
        state=TargetState.FAILED,
        state_reason="TikTok refused the video: too long for this account.",
    )
    # Its platform calls: the timeline, and the dashboard's recent failures list it.
    PublishAttemptFactory(target=failed, step="creator_info", started_at=now - timedelta(hours=1))
    PublishAttemptFactory(
        target=failed,
        step="init",
        started_at=now - timedelta(hours=1),
        outcome="permanent",
        http_status=400,
        error_code="duration_too_long",
        message="The video is longer than this creator may post.",
    )
    unsure = CrossPostFactory(client=client_obj, scheduled_at=now - timedelta(minutes=20))
    PublishTargetFactory(crosspost=unsure, linked_account=accounts["active"], state="unconfirmed")
    uploading = PublishTargetFactory(
        crosspost__client=client_obj,
        crosspost__scheduled_at=now,
        linked_account=accounts["active"],
        state=TargetState.PUBLISHING,
        checkpoint={"uploaded_bytes": 3_000_000, "total_bytes": 12_000_000},
    )
    PublishAttemptFactory(target=uploading, step="upload_chunk", outcome="", finished_at=None)
    CrossPostFactory(
        client=kumo, scheduled_at=now + timedelta(hours=5), status=CrossPost.Status.DRAFT
    )
    return {
        "kumo": kumo,
        "accounts": accounts,
        "posts": {
            "soon": soon,
            "done": done,
            "unconfirmed": unsure,
            "uploading": uploading.crosspost,
        },
        "open_link": link_path(open_url),
        "used_link": link_path(used_url),
    }


def sign_in(page: Any, user: Any) -> None:
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Good to see you"))).to_be_visible()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def assert_fits(page: Any, name: str) -> None:
    """Nothing is wider than the window: the page never scrolls sideways."""
    overflow = page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          return [...document.querySelectorAll("body *")]
            .filter((el) => el.getBoundingClientRect().right > width + 1)
            .filter((el) => !el.parentElement.closest(".table-wrap"))
            .map((el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : ""))
            .slice(0, 5);
        }"""
    )
    assert overflow == [], f"{name}: wider than the window: {overflow}"
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), f"{name}: the page scrolls sideways"


def visit(page: Any, path: str, name: str, width: int, *, screenshot: bool = False) -> None:
    response = page.goto(path)
    assert response is not None and response.status < 500, f"{name}: {response and response.status}"
    if screenshot:
        shot(page, f"tour-{name}-{width}")
    assert_accessible(page)
    assert_fits(page, name)
    toggle = page.locator("label.nav-toggle-label")
    if width < 760 and toggle.count():
        toggle.click()
        assert page.locator(".mainnav").is_visible()
        assert_accessible(page)  # the opened menu, too
        assert_fits(page, f"{name} (menu open)")
        toggle.click()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_staff_page_passes_axe_and_fits_the_screen(
    new_context, seeded, admin_user, client_obj, width
):
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, admin_user)
    accounts = seeded["accounts"]
    pages = {
        "dashboard": "/",
        "clients": "/clients/",
        "client": f"/clients/{client_obj.slug}/",
        "client-kumo": f"/clients/{seeded['kumo'].slug}/",
        "client-new": "/clients/new/",
        "client-edit": f"/clients/{client_obj.slug}/edit/",
        **{f"account-{key}": f"/connections/{a.pk}/" for key, a in accounts.items()},
        "calendar": "/calendar/",
        "calendar-month": "/calendar/?view=month",
        "client-calendar": f"/clients/{client_obj.slug}/calendar/?view=month",
        **{f"post-{key}": f"/posts/{p.pk}/" for key, p in seeded["posts"].items()},
        "audit": "/audit/",
        "staff": "/staff/",
        "staff-invite": "/staff/invite/",
        "profile": "/profile/",
        "password": "/accounts/password/change/",
        "two-factor": "/accounts/2fa/",
        # A fresh sign-in counts as recent authentication: no password prompt first.
        "totp-activate": "/accounts/2fa/totp/activate/",
        "sessions": "/accounts/sessions/",
        "reauthenticate": "/accounts/reauthenticate/",
        "sign-out": "/accounts/logout/",
        "sandbox": "/_emulator/control/",
        "operations": "/ops/",
        "not-found": "/no-such-page/",
    }
    shots = {
        "dashboard",
        "client",
        "calendar",
        "post-soon",
        "post-done",
        "operations",
        "account-missing_scope",
        "account-refresh_failing",
        "staff",
        "sessions",
    }
    for name, path in pages.items():
        visit(page, path, name, width, screenshot=name in shots)
    assert "/accounts/2fa/totp/activate/" in pages["totp-activate"]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_signed_out_page_passes_axe_and_fits_the_screen(
    new_context, seeded, admin_user, width
):
    from playwright.sync_api import expect

    page = new_context(viewport={"width": width, "height": 900}).new_page()
    visit(page, "/accounts/login/", "sign-in", width)
    page.get_by_label("Email").fill(admin_user.email)
    page.get_by_label("Password").fill("not-the-password-9")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".errorlist.nonfield")).to_be_visible()
    assert_accessible(page)

    visit(page, "/accounts/password/reset/", "password-reset", width)
    page.get_by_label("Email").fill(admin_user.email)
    page.get_by_role("button", name=re.compile("Reset", re.I)).click()
    page.wait_for_url(re.compile(r"/accounts/password/reset/done/"))
    assert_accessible(page)
    assert_fits(page, "password-reset-done")
    [message] = mail.outbox
    key_url = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", message.body)
    assert key_url is not None, message.body
    visit(page, key_url.group(1), "password-reset-key", width)
    visit(page, "/accounts/password/reset/key/1-not-a-key/", "password-reset-bad-key", width)

    visit(page, seeded["open_link"], "link-landing", width, screenshot=True)
    visit(page, seeded["used_link"], "link-used", width)
    visit(page, "/connect/not-a-link/", "link-unknown", width)
    visit(page, "/no-such-page/", "not-found", width)


def test_the_health_table_reads_whole_on_a_phone(new_context, seeded, admin_user):
    """At 390 px every count of the dashboard's health table is on screen: nothing clipped,
    nothing to scroll to."""
    page = new_context(viewport={"width": 390, "height": 900}).new_page()
    sign_in(page, admin_user)
    wrap = page.locator("#health-panel .table-wrap")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
    box = wrap.bounding_box()
    cells = page.locator("#health-panel .health-table").locator("th, td")
    assert cells.count() == 4 * 6
    for i in range(cells.count()):
        cell = cells.nth(i).bounding_box()
        assert box["x"] <= cell["x"] and cell["x"] + cell["width"] <= box["x"] + box["width"] + 0.5
        assert cells.nth(i).evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    revoked = page.locator('#health-panel tr[data-state="revoked_on_platform"]')
    assert revoked.inner_text().split() == ["Revoked", "on", "platform", "1", "0", "1"]
