"""The dashboard's health panel, request by request: every account on "Needs attention" says why
it is there, and the header counts only active accounts as active (DESIGN §5, §11)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from apps.connections.models import Capability, LinkedAccount, State
from apps.connections.selectors import health_counts
from tests.factories import CredentialFactory, LinkedAccountFactory

DAY = 24 * 3600
MISSING = "TikTok didn't grant video.publish: reconnect and allow posting videos."


def attention_item(body: str, account: LinkedAccount) -> str:
    """The text of `account`'s entry in the needs-attention list ('' when it isn't listed)."""
    listing = re.search(r'data-testid="needs-attention">(.*?)</ul>', body, re.S)
    if listing is None:
        return ""
    for item in re.findall(r"<li>(.*?)</li>", listing.group(1), re.S):
        if f"/connections/{account.pk}/" in item:
            inline = re.sub(r"</?(strong|a)\b[^>]*>", "", item)
            return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())
    return ""


def panel(http: HttpClient) -> str:
    response = http.get("/connections/health/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def http(staff_member) -> HttpClient:
    client = HttpClient()
    client.force_login(staff_member)
    return client


@pytest.mark.django_db
def test_it_says_an_active_account_is_listed_for_its_missing_permission(http, client_obj):
    account = LinkedAccountFactory(
        client=client_obj,
        state=State.ACTIVE,
        state_reason="Connected by Sam Staff",
        publish_capability=Capability.MISSING_SCOPE,
        capability_reason=MISSING,
        last_ok_at=timezone.now(),
    )

    item = attention_item(panel(http), account)

    assert "Active" in item
    assert f"Missing publishing permission: {MISSING}" in item
    assert "Connected by Sam Staff" not in item  # the state isn't why it's listed
    # The dashboard renders the same panel.
    assert MISSING in attention_item(http.get("/").content.decode(), account)


@pytest.mark.django_db
def test_it_gives_both_reasons_when_state_and_capability_are_wrong(http, client_obj):
    account = LinkedAccountFactory(
        client=client_obj,
        state=State.REFRESH_FAILING,
        state_reason="TikTok answered 503; retrying",
        publish_capability=Capability.QUOTA_EXHAUSTED,
        capability_reason="Six posts today: TikTok's daily cap.",
        last_ok_at=timezone.now(),
    )

    item = attention_item(panel(http), account)

    assert "Refresh failing" in item and "TikTok answered 503; retrying" in item
    assert "Daily limit reached: Six posts today: TikTok's daily cap." in item


@pytest.mark.django_db
def test_it_says_when_an_account_is_listed_for_stale_or_expiring_evidence(http, client_obj):
    now = timezone.now()
    stale = LinkedAccountFactory(
        client=client_obj, handle="stale", last_ok_at=now - timedelta(hours=30)
    )
    never_checked = LinkedAccountFactory(
        client=client_obj, handle="never", connected_at=now - timedelta(days=2), last_ok_at=None
    )
    expiring = LinkedAccountFactory(client=client_obj, handle="expiring", last_ok_at=now)
    CredentialFactory(account=expiring, refresh_expires_in=5 * DAY)

    body = panel(http)

    assert "Stale" in attention_item(body, stale)
    assert "No successful check since" in attention_item(body, stale)
    assert "No successful check since" in attention_item(body, never_checked)
    assert "A reconnect will be needed before" in attention_item(body, expiring)
    assert "Expiring" in attention_item(body, expiring)


@pytest.mark.django_db
def test_a_healthy_account_is_not_listed(http, client_obj):
    account = LinkedAccountFactory(client=client_obj, last_ok_at=timezone.now())
    CredentialFactory(account=account)

    assert attention_item(panel(http), account) == ""


@pytest.mark.django_db
def test_the_header_counts_revoked_and_reconnect_accounts_but_not_as_active(
    http, client_obj, staff_member
):
    for i, state in enumerate(
        [
            State.ACTIVE,
            State.ACTIVE,
            State.REVOKED_ON_PLATFORM,
            State.NEEDS_RECONNECT,
            State.DISCONNECTED,
        ]
    ):
        LinkedAccountFactory(
            client=client_obj, state=state, external_id=f"acct-{i}", last_ok_at=timezone.now()
        )

    body = html.unescape(panel(http))

    assert "4 accounts · 2 active" in body
    assert "connected account" not in body
    counts = health_counts(user=staff_member)
    assert (counts["total"], counts["active"]) == (4, 2)


@pytest.mark.django_db
def test_an_account_being_disconnected_is_not_listed(client, staff_member, client_obj):
    LinkedAccountFactory(
        client=client_obj,
        handle="leaving.brand",
        state=State.DISCONNECT_PENDING,
        state_reason="Disconnected by Sam",
    )
    client.force_login(staff_member)
    body = client.get("/connections/health/").content.decode()
    assert "leaving.brand" not in body


@pytest.mark.django_db
def test_it_polls_on_the_scripts_schedule_not_a_fixed_timer(http, settings):
    """static/js/app.js asks for the panel (event "poll") only while the tab is visible, backing
    off from HEALTH_POLL_INTERVAL to HEALTH_POLL_MAX_INTERVAL while nothing changes."""
    settings.HEALTH_POLL_INTERVAL = 5
    settings.HEALTH_POLL_MAX_INTERVAL = 60
    for body in (panel(http), http.get("/").content.decode()):
        opening = re.search(r'<div id="health-panel"[^>]*>', body).group(0)
        assert 'hx-trigger="poll"' in opening
        assert 'data-poll="5000"' in opening and 'data-poll-max="60000"' in opening
