"""The clients list's account-health filter (DESIGN §11: filter by manager and health).

"Needs attention" is the dashboard's definition (connections.selectors.needs_attention_q), asked
of each client; the list stays one query for the page however many clients and accounts exist.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.connections.models import Capability, LinkedAccount, State
from apps.connections.selectors import needs_attention
from tests.factories import (
    DAY,
    ClientFactory,
    CredentialFactory,
    LinkedAccountFactory,
    MembershipFactory,
)

pytestmark = pytest.mark.django_db

ALL = {
    "Attn Revoked",
    "Attn Expiring",
    "Attn Capability",
    "Attn Stale",
    "Healthy Brand",
    "No Accounts",
    "Only Disconnected",
    "Going Away",
}


def account(client_name: str, **fields) -> LinkedAccount:
    client = ClientFactory(name=client_name)
    return LinkedAccountFactory(client=client, external_id=f"acct-{client.slug}", **fields)


@pytest.fixture
def agency(db) -> dict[str, LinkedAccount]:
    now = timezone.now()
    accounts = {
        "revoked": account("Attn Revoked", state=State.REVOKED_ON_PLATFORM),
        "expiring": account("Attn Expiring"),
        "capability": account("Attn Capability", publish_capability=Capability.POSTING_RESTRICTED),
        "stale": account(
            "Attn Stale", connected_at=now - timedelta(days=3), last_ok_at=now - timedelta(days=2)
        ),
        "healthy": account("Healthy Brand"),
        "gone": account("Only Disconnected", state=State.DISCONNECTED),
        "pending": account("Going Away", state=State.DISCONNECT_PENDING),
    }
    # TikTok's refresh token ends within its 14-day warning: a reconnect is coming.
    CredentialFactory(account=accounts["expiring"], refresh_expires_in=3 * DAY)
    CredentialFactory(account=accounts["healthy"])
    # A second, healthy account does not hide the first one's trouble.
    LinkedAccountFactory(
        client=accounts["revoked"].client, platform="instagram", external_id="acct-revoked-ig"
    )
    ClientFactory(name="No Accounts")
    return accounts


def listed(http: HttpClient, **params) -> set[str]:
    body = http.get(reverse("clients:list"), params).content.decode()
    return {name for name in ALL if f"<strong>{name}</strong>" in body}


@pytest.fixture
def admin_http(admin_user) -> HttpClient:
    http = HttpClient()
    http.force_login(admin_user)
    return http


def test_any_health_lists_every_client(agency, admin_http):
    assert listed(admin_http) == ALL
    assert listed(admin_http, health="nonsense") == ALL


def test_needs_attention(agency, admin_http):
    assert listed(admin_http, health="attention") == {
        "Attn Revoked",
        "Attn Expiring",
        "Attn Capability",
        "Attn Stale",
    }


def test_all_healthy(agency, admin_http):
    assert listed(admin_http, health="healthy") == {"Healthy Brand"}


def test_no_accounts(agency, admin_http):
    # A disconnected account, or one being disconnected, is no account to look after.
    assert listed(admin_http, health="none") == {"No Accounts", "Only Disconnected", "Going Away"}


def test_it_is_the_dashboards_needs_attention(agency, admin_user, admin_http):
    flagged = {a.client.name for a in needs_attention(user=admin_user, limit=100)}
    assert listed(admin_http, health="attention") == flagged


def test_each_row_says_how_its_accounts_are(agency, admin_http):
    body = admin_http.get(reverse("clients:list")).content.decode()

    def row(name: str) -> str:
        return body[body.index(f"<strong>{name}</strong>") :].split("</tr>")[0]

    assert "Needs attention" in row("Attn Expiring")
    assert "Healthy" in row("Healthy Brand") and "Needs attention" not in row("Healthy Brand")
    assert "None connected" in row("No Accounts")


def test_it_combines_with_the_other_filters_and_keeps_them_in_the_pager(admin_user, manager):
    for i in range(30):
        client = ClientFactory(name=f"Brand {i:02d}", account_manager=manager)
        LinkedAccountFactory(client=client, external_id=f"b{i}", state=State.NEEDS_RECONNECT)
    http = HttpClient()
    http.force_login(admin_user)
    body = http.get(
        reverse("clients:list"), {"health": "attention", "manager": manager.pk}
    ).content.decode()
    assert "Brand 00" in body and "Brand 29" not in body
    assert f"manager={manager.pk}&health=attention&status=active&page=2" in body
    assert 'value="attention" selected' in body
    empty = http.get(reverse("clients:list"), {"health": "none"}).content.decode()
    assert "No clients match" in empty


def test_a_staff_member_filters_only_their_own_clients(agency, staff_member):
    MembershipFactory(client=agency["healthy"].client, user=staff_member)
    http = HttpClient()
    http.force_login(staff_member)
    assert listed(http, health="healthy") == {"Healthy Brand"}
    assert listed(http, health="attention") == set()


@pytest.mark.parametrize("health", ["", "attention", "healthy", "none"])
def test_the_query_count_stays_flat(admin_user, health):
    http = HttpClient()
    http.force_login(admin_user)
    http.get(reverse("clients:list"))  # the session's first request writes its activity row

    def queries_with(n: int) -> int:
        for i in range(n):
            client = ClientFactory()
            MembershipFactory(client=client)
            state = State.NEEDS_RECONNECT if i % 2 else State.ACTIVE
            acct = LinkedAccountFactory(client=client, external_id=f"{n}-{i}", state=state)
            CredentialFactory(account=acct)
        with CaptureQueriesContext(connection) as captured:
            assert http.get(reverse("clients:list"), {"health": health}).status_code == 200
        return len(captured)

    few = queries_with(3)
    many = queries_with(40)  # 43 clients: a full page and more
    assert many == few


def test_the_page_query_asks_no_account_of_every_client(agency, admin_user):
    """Without a health filter the page's own query touches no account: the badges are asked
    for the clients shown only (asked in the page query, PostgreSQL computes them for every
    client before sorting — the clients list grew 1.8x from 500 to 5,000 clients)."""
    from apps.clients.selectors import client_page

    with CaptureQueriesContext(connection) as captured:
        page = client_page(user=admin_user, per_page=3)
    page_query = captured.captured_queries[0]["sql"]
    assert "connections_linkedaccount" not in page_query
    accounts_queries = [q["sql"] for q in captured if "connections_linkedaccount" in q["sql"]]
    assert len(accounts_queries) == 1
    assert all(str(c.pk) in accounts_queries[0] for c in page.object_list)
