"""The pages that list accounts run a fixed number of queries, from 40 to 500 linked accounts
(no query per row): the dashboard (health panel + needs attention), the clients list, and a
client page whose accounts card grows with the data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.clients.models import Client, ClientMembership
from apps.connections.models import ConnectLink, Credential, LinkedAccount, State, StateChange
from tests.factories import LinkedAccountFactory

# The same ceiling holds for 10 and for 500 accounts. The dashboard's posts due soon and the
# client page's posts card add theirs (tests/publishing/test_query_counts.py pins those).
MAX_QUERIES = {"/": 15, "/clients/": 10, "client": 17}
STATES = [
    State.ACTIVE,
    State.ACTIVE,
    State.ACTIVE,
    State.REFRESH_FAILING,
    State.NEEDS_RECONNECT,
    State.REVOKED_ON_PLATFORM,
    State.DISCONNECT_PENDING,
    State.DISCONNECTED,
]


def build(n: int, *, big_client: Client, users: list, start: int = 0) -> None:
    """n more linked accounts with credentials: a fifth on `big_client`, the rest over n/10
    clients; `start` keeps names and ids unique when called again."""
    now = timezone.now()
    others = Client.objects.bulk_create(
        Client(
            name=f"Brand {start + i:04d}",
            slug=f"brand-{start + i:04d}",
            timezone="Europe/Berlin",
            account_manager=users[i % len(users)],
        )
        for i in range(max(1, n // 10))
    )
    ClientMembership.objects.bulk_create(
        ClientMembership(client=c, user=users[(i + 1) % len(users)]) for i, c in enumerate(others)
    )
    accounts = LinkedAccount.objects.bulk_create(
        LinkedAccount(
            client=big_client if i % 5 == 0 else others[i % len(others)],
            platform="tiktok" if i % 2 else "instagram",
            external_id=f"ext-{start + i}",
            handle=f"handle{start + i}",
            display_name=f"Account {start + i}",
            state=STATES[i % len(STATES)],
            state_reason="Seeded",
            granted_scopes=["user.info.basic", "video.publish"],
            connected_by=users[i % len(users)],
            last_checked_at=now - timedelta(hours=i % 30),
            last_ok_at=now - timedelta(hours=i % 30),
            last_error_message="Token expired" if i % 3 == 0 else "",
        )
        for i in range(n)
    )
    Credential.objects.bulk_create(
        Credential(
            account=a,
            access_token="ciphertext",
            refresh_token="ciphertext",
            access_expires_at=now + timedelta(days=i % 60),
            refresh_expires_at=now + timedelta(days=i % 365),
        )
        for i, a in enumerate(accounts)
        if a.state != State.DISCONNECTED
    )
    StateChange.objects.bulk_create(
        StateChange(account=a, from_state=State.ACTIVE, to_state=a.state, reason="Seeded")
        for a in accounts
        if a.state != State.ACTIVE
    )
    ConnectLink.objects.bulk_create(
        ConnectLink(
            client=big_client,
            platform="tiktok",
            token_hash=f"hash-{start + i}",
            created_by=users[i % len(users)],
            expires_at=now + timedelta(days=7),
            sent_to=f"owner{i}@brand.example",
            used_at=now if i % 2 else None,
            used_account=accounts[0] if i % 2 else None,
        )
        for i in range(min(n, 12))
    )


def count(http, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(path)
    assert response.status_code == 200, path
    return len(ctx.captured_queries)


def measure(http, client_obj: Client, assert_max) -> dict[str, int]:
    pages = {"/": "/", "/clients/": "/clients/", "client": f"/clients/{client_obj.slug}/"}
    measured = {}
    for key, path in pages.items():
        with assert_max(MAX_QUERIES[key]):
            measured[key] = count(http, path)
    return measured


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin_user", "manager", "staff_member"])
def test_pages_run_a_fixed_number_of_queries_from_40_to_500_accounts(
    request,
    client,
    client_obj,
    admin_user,
    manager,
    other_manager,
    staff_member,
    role,
    django_assert_max_num_queries,
):
    users = [manager, other_manager, staff_member, admin_user]
    client.force_login(request.getfixturevalue(role))
    client.get("/")  # warm the session and per-process caches

    # 40: every person manages a client and is on another one, as at 500 (an empty book
    # needs fewer queries).
    build(40, big_client=client_obj, users=users)
    small = measure(client, client_obj, django_assert_max_num_queries)
    build(460, big_client=client_obj, users=users, start=40)
    assert LinkedAccount.objects.count() == 500
    assert LinkedAccount.objects.filter(client=client_obj).count() == 100
    large = measure(client, client_obj, django_assert_max_num_queries)

    print(f"queries as {role}, 40 vs 500 accounts: {small} vs {large}")
    assert small == large


def add_audit_events(n: int, *, client_obj: Client, account: LinkedAccount, actor) -> None:
    """n events of the kinds the audit pages show (state changes with before/after values,
    edits, team changes), on the client and its account."""
    from apps.audit.actions import AuditAction
    from apps.audit.services import audit_record

    for i in range(n):
        kind = i % 3
        if kind == 0:
            audit_record(
                action=AuditAction.CONNECTION_REFRESH_FAILED,
                actor_label="system",
                client=client_obj,
                target=account,
                data={"from": "active", "to": "refresh_failing", "reason": f"try {i}"},
            )
        elif kind == 1:
            audit_record(
                action=AuditAction.CLIENT_EDITED,
                actor=actor,
                client=client_obj,
                target=client_obj,
                data={"changes": {"notes": {"before": str(i), "after": str(i + 1)}}},
            )
        else:
            audit_record(
                action=AuditAction.CONNECTION_REVOKED_ON_PLATFORM,
                actor_label="webhook:tiktok",
                client=client_obj,
                target=account,
                data={"from": "active", "to": "revoked_on_platform", "reason": "removed"},
            )


# The same ceiling holds for 10 and for 500 events.
MAX_AUDIT_QUERIES = {"log": 12, "client timeline": 12, "account timeline": 12, "report": 17}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin_user", "manager"])
def test_audit_pages_run_a_fixed_number_of_queries_from_10_to_500_events(
    request, client, client_obj, admin_user, manager, role, django_assert_max_num_queries
):
    from django.utils import timezone as tz

    account = LinkedAccountFactory(client=client_obj)
    today = tz.localdate()
    pages = {
        "log": "/audit/?group=connections",
        "client timeline": f"/audit/clients/{client_obj.slug}/",
        "account timeline": f"/audit/accounts/{account.pk}/",
        "report": f"/audit/clients/{client_obj.slug}/report/{today.year}-{today.month}/",
    }
    client.force_login(request.getfixturevalue(role))
    client.get("/audit/clients/" + client_obj.slug + "/")  # warm the session

    def measure_audit() -> dict[str, int]:
        measured = {}
        for key, path in pages.items():
            with django_assert_max_num_queries(MAX_AUDIT_QUERIES[key]):
                measured[key] = count(client, path)
        return measured

    add_audit_events(10, client_obj=client_obj, account=account, actor=admin_user)
    small = measure_audit()
    add_audit_events(490, client_obj=client_obj, account=account, actor=admin_user)
    large = measure_audit()
    print(f"audit queries as {role}, 10 vs 500 events: {small} vs {large}")
    assert small == large
