"""The clients list's account-health filter in a real browser, at a desktop and a phone width:
choosing an option updates the list in place (htmx) and keeps it in the address bar.

Screenshots go to /tmp/switchboard-shots/ (never into the repository).
"""

from __future__ import annotations

import re

import pytest

from apps.connections.models import State
from tests.browser.conftest import sign_in_as
from tests.browser.test_handoff_flow import look
from tests.factories import ClientFactory, LinkedAccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_lists_the_clients_that_need_attention(
    new_context, live_server, admin_user, width
):
    from playwright.sync_api import expect

    LinkedAccountFactory(
        client=ClientFactory(name="Bluebird Bakery"),
        external_id="bb",
        state=State.NEEDS_RECONNECT,
    )
    LinkedAccountFactory(client=ClientFactory(name="Cedar & Pine"), external_id="cp")
    ClientFactory(name="Verde Yoga")
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in_as(page, admin_user, live_server)

    page.goto("/clients/")
    results = page.locator("#client-results")
    expect(results).to_contain_text("Verde Yoga")
    page.get_by_label("Account health").select_option(label="Needs attention")
    page.wait_for_url(re.compile(r"health=attention"))
    expect(results).not_to_contain_text("Verde Yoga")
    expect(results).to_contain_text("Bluebird Bakery")
    expect(results.get_by_text("Needs attention")).to_be_visible()
    look(page, f"clients-needs-attention-{width}")

    page.get_by_label("Account health").select_option(label="No accounts")
    page.wait_for_url(re.compile(r"health=none"))
    expect(results).to_contain_text("Verde Yoga")
    expect(results).not_to_contain_text("Bluebird Bakery")
