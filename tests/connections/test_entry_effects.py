"""Entering a state that blocks publishing reaches the registered publish-work handler on every
path (DESIGN §5): webhook, disconnect, an auth error met by a health check or by a refresh."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.connections import hooks
from apps.connections.hooks import PublishWorkEffect
from apps.connections.lifecycle import ENTRY_EFFECTS, account_transition
from apps.connections.models import State
from apps.connections.services.disconnect import account_disconnect
from apps.connections.services.health import account_check
from apps.connections.services.refresh import account_refresh
from tests.connections.helpers import captured_tasks, connect
from tests.factories import LinkedAccountFactory


@pytest.fixture
def blocked() -> Iterator[list[tuple[int, str, str]]]:
    calls: list[tuple[int, str, str]] = []

    def handler(*, account: Any, effect: PublishWorkEffect, reason: str) -> int:
        calls.append((account.pk, str(effect), account.state))
        return 1

    hooks.register_publish_work_handler(handler)
    yield calls
    hooks.unregister(handler)


def test_the_effects_table_covers_the_states_that_block_publishing():
    assert ENTRY_EFFECTS == {
        State.REVOKED_ON_PLATFORM: PublishWorkEffect.CANCEL,
        State.DISCONNECT_PENDING: PublishWorkEffect.CANCEL,
        State.NEEDS_RECONNECT: PublishWorkEffect.PAUSE,
    }


@pytest.mark.django_db
def test_a_transition_into_a_blocking_state_calls_the_handler_once(client_obj, blocked):
    account = LinkedAccountFactory(client=client_obj)
    account_transition(account=account, to=State.REFRESH_FAILING, reason="x")
    assert blocked == []  # refresh_failing doesn't block: the system retries
    account_transition(account=account, to=State.NEEDS_RECONNECT, reason="x")
    assert blocked == [(account.pk, "pause", State.NEEDS_RECONNECT)]


@pytest.mark.django_db(transaction=True)
def test_the_webhook_path_cancels(sandbox, oauth, staff_member, client_obj, blocked):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.action("tt-public", "remove_app")
    assert blocked == [(account.pk, "cancel", State.REVOKED_ON_PLATFORM)]


@pytest.mark.django_db(transaction=True)
def test_the_disconnect_path_cancels(sandbox, oauth, staff_member, client_obj, blocked):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    with captured_tasks():
        account_disconnect(account=account, actor=staff_member)
    assert blocked == [(account.pk, "cancel", State.DISCONNECT_PENDING)]


@pytest.mark.django_db(transaction=True)
def test_an_auth_error_met_by_a_check_cancels(sandbox, oauth, staff_member, client_obj, blocked):
    account = connect(oauth, staff_member, client_obj, "instagram")
    sandbox.action("ig-business", "remove_app")  # Instagram's deauthorize callback, then 190
    blocked.clear()
    account.refresh_from_db()
    account_transition(account=account, to=State.ACTIVE, reason="pretend it came back")
    assert str(account_check(account_id=account.pk)).startswith("error")
    account.refresh_from_db()
    assert account.state == State.REVOKED_ON_PLATFORM
    assert blocked == [(account.pk, "cancel", State.REVOKED_ON_PLATFORM)]


@pytest.mark.django_db(transaction=True)
def test_an_auth_error_met_by_a_refresh_pauses(sandbox, oauth, staff_member, client_obj, blocked):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.action("tt-public", "change_password")  # the refresh token dies (PLATFORMS §4.6)
    assert str(account_refresh(account_id=account.pk, force=True)).startswith("failed")
    account.refresh_from_db()
    assert account.state == State.NEEDS_RECONNECT
    assert blocked == [(account.pk, "pause", State.NEEDS_RECONNECT)]
