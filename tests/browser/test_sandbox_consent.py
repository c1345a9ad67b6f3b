"""The sandbox consent page in a real browser: sign in as one account, untick a scope, approve,
and the callback receives exactly the scopes granted (PLATFORMS §1.2, §2.2); a personal Instagram
account comes back as an error the app can explain (§4.18).

The callback is a real HTTP receiver on 127.0.0.1 (tests.contract.helpers.Receiver), registered
as the apps' redirect URI; the codes it receives are exchanged with Switchboard's own clients.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from apps.platforms.instagram import client as ig
from apps.platforms.tiktok import client as tt
from tests.contract.helpers import (
    IG_CALLBACK,
    TT_CALLBACK,
    Receiver,
    Sandbox,
    base_urls,
    registered_redirect_uris,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def callback() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def platforms(live_server: Any, settings: Any, callback: Receiver) -> None:
    settings.PLATFORM_BASE_URLS = base_urls(live_server.url)
    Sandbox(live_server.url).configure(**registered_redirect_uris(callback))


def test_tiktok_consent_grants_exactly_the_scopes_left_ticked(page, callback, platforms):
    from playwright.sync_api import expect

    redirect_uri = callback.url(TT_CALLBACK)
    verifier = tt.pkce_verifier()
    page.goto(
        tt.authorize_url(
            redirect_uri=redirect_uri,
            state="browser-state",
            code_challenge=tt.pkce_challenge(verifier=verifier),
        )
    )
    expect(page.get_by_role("heading", name="Sign in and authorize")).to_be_visible()
    page.get_by_role("radio", name=re.compile("@sbx.creator")).check()
    expect(page.get_by_role("checkbox", name=re.compile("user.info.basic"))).to_be_disabled()
    page.get_by_role("checkbox", name="video.list").uncheck()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(redirect_uri)))

    [arrived] = callback.received(TT_CALLBACK)
    granted = ["user.info.basic", "user.info.profile", "video.publish"]
    assert arrived.query["scopes"].split(",") == granted
    assert arrived.query["state"] == "browser-state"
    tokens = tt.exchange_code(
        code=arrived.query["code"], redirect_uri=redirect_uri, code_verifier=verifier
    )
    assert tokens.scopes == set(granted)
    assert tokens.missing_scopes(tt.PUBLISH_SCOPES) == frozenset()
    assert "video.list" not in tokens.scopes


def test_instagram_consent_grants_exactly_the_permissions_left_ticked(page, callback, platforms):
    from playwright.sync_api import expect

    redirect_uri = callback.url(IG_CALLBACK)
    page.goto(ig.authorize_url(redirect_uri=redirect_uri, state="ig-browser"))
    page.get_by_role("radio", name=re.compile("@sbx_creator")).check()
    page.get_by_role("checkbox", name="instagram_business_content_publish").uncheck()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(redirect_uri)))
    expect(page).to_have_url(re.compile("#_$"))

    [arrived] = callback.received(IG_CALLBACK)
    assert arrived.query["state"] == "ig-browser"
    short = ig.exchange_code(code=arrived.query["code"], redirect_uri=redirect_uri)
    assert short.scopes == {"instagram_business_basic"}
    assert short.missing_scopes(ig.PUBLISH_SCOPES) == {"instagram_business_content_publish"}


def test_instagram_consent_sends_a_personal_account_back_as_not_professional(
    page, callback, platforms
):
    from playwright.sync_api import expect

    redirect_uri = callback.url(IG_CALLBACK)
    page.goto(ig.authorize_url(redirect_uri=redirect_uri, state="ig-personal"))
    page.get_by_role("radio", name=re.compile("@sbx_personal")).check()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(redirect_uri)))
    expect(page).not_to_have_url(re.compile("#"))

    [arrived] = callback.received(IG_CALLBACK)
    assert arrived.query["error"] == "access_denied"
    assert arrived.query["error_reason"] == "not_professional_account"
    assert arrived.query["state"] == "ig-personal"
    assert "code" not in arrived.query
