"""The account page re-reads its state by itself while the system is still acting on the account
(a disconnect waiting for the platform, a refresh being retried), and stops once it settles."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient

from apps.connections.models import State
from tests.factories import LinkedAccountFactory


def state_section(body: str) -> str:
    match = re.search(r'<section class="card" id="state"[^>]*>', body)
    assert match is not None, body[:2000]
    return match.group(0)


@pytest.fixture
def http(staff_member) -> HttpClient:
    client = HttpClient()
    client.force_login(staff_member)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "every"), [(State.DISCONNECT_PENDING, "3s"), (State.REFRESH_FAILING, "30s")]
)
def test_it_polls_its_own_state_while_the_system_acts(http, client_obj, state, every):
    account = LinkedAccountFactory(client=client_obj, state=state)
    path = f"/connections/{account.pk}/"

    section = state_section(http.get(path).content.decode())

    assert f'hx-get="{path}"' in section
    assert f'hx-trigger="every {every}"' in section
    assert 'hx-select="#state"' in section and 'hx-swap="outerHTML"' in section
    assert 'hx-select-oob="#history"' in section


@pytest.mark.django_db
@pytest.mark.parametrize(
    "state",
    [State.ACTIVE, State.NEEDS_RECONNECT, State.REVOKED_ON_PLATFORM, State.DISCONNECTED],
)
def test_it_does_not_poll_a_settled_state(http, client_obj, state):
    account = LinkedAccountFactory(client=client_obj, state=state)

    body = http.get(f"/connections/{account.pk}/").content.decode()

    assert "hx-trigger" not in state_section(body)
    # The history the polling swaps along is always on the page, so a settled swap finds it.
    assert 'id="history"' in body
