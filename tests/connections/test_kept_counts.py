"""The admin's health counts are kept (apps/connections/tallies.py) and agree with a fresh count
after every writer: an account connected through the real OAuth flow, and every state change
(lifecycle.account_transition), each committed for real (transactional tests, DESIGN §11)."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.connections.lifecycle import account_transition
from apps.connections.models import LinkedAccount, Platform, State
from apps.connections.selectors import health_counts
from tests.connections.helpers import connect
from tests.factories import ClientFactory, LinkedAccountFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def shown(user) -> dict[tuple[str, str], int]:
    """health_counts as (platform, state) → n, zeros left out."""
    table = health_counts(user=user)
    return {
        (platform, row["state"]): n
        for row in table["rows"]
        for platform, n in zip(Platform.values, row["counts"], strict=True)
        if n
    }


def truth() -> dict[tuple[str, str], int]:
    rows = LinkedAccount.objects.exclude(state=State.DISCONNECTED).values_list("platform", "state")
    return dict(Counter(rows))


def counted_accounts(queries: CaptureQueriesContext) -> bool:
    return any(
        'FROM "connections_linkedaccount"' in q["sql"] and "GROUP BY" in q["sql"]
        for q in queries.captured_queries
    )


def test_the_kept_counts_follow_a_connect_and_every_state_change(
    oauth, admin_user, staff_member, client_obj
):
    assert shown(admin_user) == truth() == {}

    account = connect(oauth, staff_member, client_obj, "tiktok")
    assert shown(admin_user) == truth() == {("tiktok", "active"): 1}
    with CaptureQueriesContext(connection) as kept:
        assert shown(admin_user) == {("tiktok", "active"): 1}
    assert not counted_accounts(kept), "a second read counted every account again"

    connect(oauth, staff_member, client_obj, "instagram")
    assert shown(admin_user) == truth() == {("tiktok", "active"): 1, ("instagram", "active"): 1}

    for to in (State.NEEDS_RECONNECT, State.ACTIVE, State.REVOKED_ON_PLATFORM):
        account_transition(account=account, to=to, reason="test")
        assert shown(admin_user) == truth()
        assert shown(admin_user)[("tiktok", str(to))] == 1


def test_others_count_their_own_book_every_time(admin_user, staff_member, client_obj):
    LinkedAccountFactory(client=client_obj, platform=Platform.TIKTOK)
    elsewhere = ClientFactory(name="Elsewhere")
    LinkedAccountFactory(client=elsewhere, platform=Platform.TIKTOK)
    assert shown(admin_user) == {("tiktok", "active"): 2}

    assert shown(staff_member) == {("tiktok", "active"): 1}
    MembershipFactory(client=elsewhere, user=staff_member)
    with CaptureQueriesContext(connection) as queries:
        assert shown(staff_member) == {("tiktok", "active"): 2}
    assert counted_accounts(queries)
