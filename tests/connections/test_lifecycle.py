"""The DESIGN §5 lifecycle as data: every legal move, every illegal one, derived warnings and the
publishing capability (no platform involved)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.connections import lifecycle
from apps.connections.lifecycle import (
    IllegalTransition,
    account_set_capability,
    account_transition,
    warnings_for,
)
from apps.connections.models import Capability, LinkedAccount, State, StateChange
from apps.connections.services.failure_policy import account_apply_error
from apps.platforms.errors import Category, PlatformError
from tests.connections.helpers import captured_tasks
from tests.factories import DAY, CredentialFactory, LinkedAccountFactory

pytestmark = pytest.mark.django_db

# Written out by hand from DESIGN §5 so that a wrong row in lifecycle.TRANSITIONS fails here.
EXPECTED: dict[str, set[str]] = {
    "active": {"refresh_failing", "needs_reconnect", "revoked_on_platform", "disconnect_pending"},
    "refresh_failing": {"active", "needs_reconnect", "revoked_on_platform", "disconnect_pending"},
    "needs_reconnect": {"active", "revoked_on_platform", "disconnect_pending"},
    "revoked_on_platform": {"active", "disconnect_pending"},
    "disconnect_pending": {"disconnected"},
    "disconnected": set(),
}
# The audit code (DESIGN §7 namespace) written when an account enters each state.
ENTRY_CODES = {
    "active": "connection.restored",
    "refresh_failing": "connection.refresh_failed",
    "needs_reconnect": "connection.needs_reconnect",
    "revoked_on_platform": "connection.revoked_on_platform",
    "disconnect_pending": "connection.disconnect_requested",
    "disconnected": "connection.disconnected",
}
ALL_PAIRS = list(itertools.product(State.values, repeat=2))
LEGAL = [(a, b) for a, b in ALL_PAIRS if b in EXPECTED[a]]
ILLEGAL = [(a, b) for a, b in ALL_PAIRS if b not in EXPECTED[a]]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_the_transition_table_is_the_one_in_the_design():
    assert set(lifecycle.TRANSITIONS) == set(State.values)
    assert {k: set(v) for k, v in lifecycle.TRANSITIONS.items()} == EXPECTED
    assert {k: str(v) for k, v in lifecycle.ENTRY_ACTIONS.items()} == ENTRY_CODES


def test_the_table_agrees_with_can_transition_for_every_pair():
    for from_state, to_state in ALL_PAIRS:
        assert lifecycle.can_transition(from_state, to_state) == (to_state in EXPECTED[from_state])


@pytest.mark.parametrize(("from_state", "to_state"), LEGAL)
def test_it_makes_every_legal_move_with_history_and_audit(
    client_obj, admin_user, from_state, to_state
):
    account = LinkedAccountFactory(
        client=client_obj, state=from_state, notified_state="needs_reconnect"
    )
    with captured_tasks():
        account_transition(account=account, to=to_state, reason="because", actor=admin_user)
    account.refresh_from_db()
    assert account.state == to_state
    assert account.state_reason == "because"
    change = StateChange.objects.get(account=account)
    assert (change.from_state, change.to_state, change.reason) == (from_state, to_state, "because")
    assert change.actor_label == admin_user.label
    event = AuditEvent.objects.get(target_id=str(account.pk))
    assert event.action == ENTRY_CODES[to_state]
    assert event.actor == admin_user and event.client_id == client_obj.pk
    assert event.data["from"] == from_state and event.data["to"] == to_state
    assert (account.disconnected_at is not None) == (to_state == "disconnected")
    if to_state == "active":
        assert account.notified_state == ""  # a new episode may notify again


@pytest.mark.parametrize(("from_state", "to_state"), ILLEGAL)
def test_it_refuses_every_illegal_move_and_changes_nothing(client_obj, from_state, to_state):
    account = LinkedAccountFactory(client=client_obj, state=from_state, state_reason="as it was")
    with pytest.raises(IllegalTransition) as raised:
        account_transition(account=account, to=to_state, reason="nope")
    assert (raised.value.from_state, raised.value.to_state) == (from_state, to_state)
    stored = LinkedAccount.objects.get(pk=account.pk)
    assert (stored.state, stored.state_reason) == (from_state, "as it was")
    assert not StateChange.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_move_names_the_non_human_actor_and_queues_the_notice_with_the_id_only(
    client_obj, django_capture_on_commit_callbacks
):
    account = LinkedAccountFactory(client=client_obj)
    with captured_tasks() as tasks, django_capture_on_commit_callbacks(execute=True):
        account_transition(
            account=account, to=State.REVOKED_ON_PLATFORM, reason="r", actor_label="webhook:tiktok"
        )
    assert tasks == [(lifecycle.NOTIFY_TASK, (account.pk,))]
    assert StateChange.objects.get().actor_label == "webhook:tiktok"
    assert AuditEvent.objects.get().actor_label == "webhook:tiktok"


# --- Derived warnings ------------------------------------------------------------------------


def codes(account: LinkedAccount) -> set[str]:
    account = LinkedAccount.objects.select_related("credential").get(pk=account.pk)
    return {w["code"] for w in warnings_for(account)}


def test_tiktok_is_expiring_when_the_refresh_token_has_less_than_14_days_left(client_obj):
    with time_machine.travel(T0, tick=False) as clock:
        account = LinkedAccountFactory(client=client_obj, platform="tiktok", last_ok_at=T0)
        CredentialFactory(account=account, refresh_expires_in=365 * DAY)
        assert "expiring" not in codes(account)
        clock.move_to(T0 + timedelta(days=365 - 15))
        account.last_ok_at = timezone.now()
        account.save()
        assert codes(account) == set()
        clock.move_to(T0 + timedelta(days=365 - 13))
        account.last_ok_at = timezone.now()
        account.save()
        assert codes(account) == {"expiring"}
        deadline = T0 + timedelta(days=365)
        account = LinkedAccount.objects.select_related("credential").get(pk=account.pk)
        assert f"{deadline:%d %b %Y}" in warnings_for(account)[0]["message"]


def test_instagram_is_expiring_when_the_token_has_less_than_10_days_left(client_obj):
    with time_machine.travel(T0, tick=False) as clock:
        account = LinkedAccountFactory(client=client_obj, platform="instagram", last_ok_at=T0)
        CredentialFactory(
            account=account, refresh=None, expires_in=60 * DAY, refresh_expires_in=None
        )
        clock.move_to(T0 + timedelta(days=49))
        account.last_ok_at = timezone.now()
        account.save()
        assert codes(account) == set()
        clock.move_to(T0 + timedelta(days=51))
        account.last_ok_at = timezone.now()
        account.save()
        assert codes(account) == {"expiring"}


def test_an_account_is_stale_after_24_hours_without_a_successful_check(client_obj):
    with time_machine.travel(T0, tick=False) as clock:
        account = LinkedAccountFactory(client=client_obj, last_ok_at=T0)
        CredentialFactory(account=account)
        clock.move_to(T0 + timedelta(hours=23, minutes=59))
        assert codes(account) == set()
        clock.move_to(T0 + timedelta(hours=24, minutes=1))
        assert codes(account) == {"stale"}
        account.last_ok_at = timezone.now()  # a successful check ends it
        account.save()
        assert codes(account) == set()


def test_a_never_checked_account_is_stale_24_hours_after_connecting(client_obj):
    with time_machine.travel(T0, tick=False) as clock:
        account = LinkedAccountFactory(client=client_obj, connected_at=T0)
        clock.move_to(T0 + timedelta(hours=25))
        assert codes(account) == {"stale"}


@pytest.mark.parametrize("state", ["disconnect_pending", "disconnected"])
def test_gone_accounts_carry_no_warnings(client_obj, state):
    with time_machine.travel(T0, tick=False) as clock:
        account = LinkedAccountFactory(client=client_obj, state=state, last_ok_at=T0)
        CredentialFactory(account=account, refresh_expires_in=DAY)
        clock.move_to(T0 + timedelta(days=3))
        assert codes(account) == set()


# --- Capability ------------------------------------------------------------------------------


def test_capability_changes_independently_of_the_state(client_obj):
    account = LinkedAccountFactory(client=client_obj, state=State.ACTIVE)
    until = timezone.now() + timedelta(hours=24)
    assert account_set_capability(
        account=account, capability=Capability.QUOTA_EXHAUSTED, reason="cap", until=until
    )
    assert not account_set_capability(
        account=account, capability=Capability.QUOTA_EXHAUSTED, reason="cap", until=until
    )
    account.refresh_from_db()
    assert account.publish_capability == "quota_exhausted" and account.capability_until == until
    assert account.state == State.ACTIVE
    assert not StateChange.objects.exists()
    assert account_set_capability(account=account, capability=Capability.OK)
    account.refresh_from_db()
    assert (account.publish_capability, account.capability_reason) == ("ok", "")
    assert account.capability_until is None


def test_a_capability_signal_is_audited_once_and_leaves_the_state_alone(client_obj):
    account = LinkedAccountFactory(client=client_obj, state=State.ACTIVE)
    error = PlatformError(
        platform="tiktok",
        category=Category.PERMANENT,
        code="spam_risk_user_banned_from_posting",
        message="TikTok barred this account from posting.",
    )
    for _ in range(2):
        account_apply_error(account=account, error=error, during="publish")
    account.refresh_from_db()
    assert account.state == State.ACTIVE
    assert account.publish_capability == Capability.POSTING_RESTRICTED
    assert account.last_error_code == "spam_risk_user_banned_from_posting"
    assert list(AuditEvent.objects.values_list("action", flat=True)) == [
        "connection.capability_changed"
    ]
