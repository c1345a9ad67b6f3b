"""The control API and the human control page."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.emulator.conftest import CONTROL, REDIRECT, Outbox, control, tiktok_tokens


def test_state_lists_the_seeded_accounts(api: Client) -> None:
    state = control(api, "get", "/state")
    keys = {a["key"]: a for a in state["accounts"]}
    assert {
        "tt-public",
        "tt-private",
        "tt-short",
        "ig-business",
        "ig-creator",
        "ig-personal",
    } <= set(keys)
    assert (
        keys["tt-private"]["is_private"] and keys["tt-short"]["max_video_post_duration_sec"] == 60
    )
    assert keys["ig-personal"]["account_type"] == "PERSONAL"
    assert state["config"]["tiktok_access_ttl"] == 7200


def test_tokens_are_masked(api: Client) -> None:
    tokens = tiktok_tokens(api)
    listing = control(api, "get", "/tokens?account=tt-public")
    assert all(t["token"].endswith("…") for t in listing)
    assert tokens["access_token"] not in api.get(CONTROL + "/state").content.decode()


def test_reset_forgets_everything(api: Client) -> None:
    tiktok_tokens(api)
    control(api, "post", "/clock", {"seconds": 100})
    control(api, "post", "/accounts", {"platform": "tiktok", "key": "tt-extra", "username": "x"})
    control(api, "post", "/reset")
    state = control(api, "get", "/state")
    assert state["tokens"] == [] and state["config"]["clock_offset_seconds"] == 0
    assert "tt-extra" not in {a["key"] for a in state["accounts"]}


def test_accounts_can_be_created_and_altered(api: Client) -> None:
    created = control(
        api,
        "post",
        "/accounts",
        {
            "platform": "tiktok",
            "key": "tt-ten",
            "username": "ten.min",
            "max_video_post_duration_sec": 600,
        },
    )
    assert created["open_id"] and created["max_video_post_duration_sec"] == 600
    changed = control(api, "patch", "/accounts/tt-ten", {"is_private": True})
    assert changed["is_private"] is True
    bad = api.post(CONTROL + "/accounts/tt-ten", {"nope": 1}, content_type="application/json")
    assert bad.status_code == 400


def test_clock_advances_only_forward(api: Client) -> None:
    before = control(api, "get", "/clock")
    after = control(api, "post", "/clock", {"hours": 2})
    assert after["offset_seconds"] == before["offset_seconds"] + 7200
    bad = api.post(CONTROL + "/clock", {"seconds": -5}, content_type="application/json")
    assert bad.status_code == 400


def test_authorize_refuses_bad_redirects_and_unknown_scopes(api: Client) -> None:
    for body in (
        {"account": "tt-public", "redirect_uri": "http://evil.example/"},
        {"account": "tt-public", "redirect_uri": REDIRECT, "scopes": "bogus"},
    ):
        response = api.post(CONTROL + "/authorize", body, content_type="application/json")
        assert response.status_code == 400


def test_control_page_renders_and_its_buttons_work(api: Client) -> None:
    tiktok_tokens(api)
    client = Client(enforce_csrf_checks=True)
    page = client.get("/_emulator/control/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "sbx.creator" in html and "remove_app" in html
    assert "<script>" not in html and " style=" not in html
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/_emulator/control/accounts/tt-public/ban_posting/", {"csrfmiddlewaretoken": csrf}
    )
    assert response.status_code == 302
    assert control(api, "get", "/accounts/tt-public")["banned_from_posting"] is True
    client.post(
        "/_emulator/control/faults/add/",
        {
            "csrfmiddlewaretoken": csrf,
            "endpoint": "tiktok.status",
            "error": "internal_error",
            "rate": "1",
        },
    )
    assert control(api, "get", "/faults")["rules"][0]["endpoint"] == "tiktok.status"
    client.post("/_emulator/control/clock/advance/", {"csrfmiddlewaretoken": csrf, "seconds": "30"})
    assert control(api, "get", "/clock")["offset_seconds"] == 30
    client.post(
        "/_emulator/control/config/",
        {
            "csrfmiddlewaretoken": csrf,
            "tiktok_access_ttl": "60",
            "tiktok_refresh_ttl": "600",
            "tiktok_code_ttl": "600",
            "instagram_code_ttl": "3600",
            "instagram_short_ttl": "3600",
            "instagram_long_ttl": "5184000",
            "instagram_token_shape": "data",
            "instagram_signing_secret": "instagram",
            "tiktok_processing_seconds": "10",
            "tiktok_moderation_seconds": "30",
            "instagram_processing_seconds": "10",
            "tiktok_client_audited": "1",
            "tiktok_active_user_cap": "100",
            "webhooks_enabled": "1",
        },
    )
    assert control(api, "get", "/config")["tiktok_access_ttl"] == 60
    refused = Client(enforce_csrf_checks=True).post("/_emulator/control/reset/")
    assert refused.status_code == 403


def test_control_api_needs_json(api: Client) -> None:
    response = api.post(CONTROL + "/config", "not json", content_type="application/json")
    assert response.status_code == 400


# --- The JSON API refuses cross-site requests (it takes no CSRF token) ------------------------

EVIL_ORIGIN = "https://evil.example"
FORM = "application/x-www-form-urlencoded"


def test_control_api_refuses_a_cross_site_form_post_to_reset(api: Client) -> None:
    control(api, "post", "/clock", {"seconds": 100})
    for headers in ({"Origin": EVIL_ORIGIN}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        response = api.post(CONTROL + "/reset", "confirm=1", content_type=FORM, headers=headers)
        assert response.status_code == 403, headers
        assert "cross" in response.json()["error"]
    assert control(api, "get", "/clock")["offset_seconds"] == 100  # nothing was reset


def test_control_api_refuses_a_cross_site_account_action(api: Client, outbox: Outbox) -> None:
    tiktok_tokens(api)
    for headers in ({"Origin": EVIL_ORIGIN}, {"Sec-Fetch-Site": "same-site"}):
        response = api.post(
            CONTROL + "/accounts/tt-public/remove_app",
            "reason=1",
            content_type=FORM,
            headers=headers,
        )
        assert response.status_code == 403, headers
    # Even with a JSON body the foreign Origin decides.
    response = api.post(
        CONTROL + "/accounts/tt-public/remove_app",
        {},
        content_type="application/json",
        headers={"Origin": EVIL_ORIGIN},
    )
    assert response.status_code == 403
    assert outbox.sent == []
    states = {t["state"] for t in control(api, "get", "/tokens?account=tt-public")}
    assert states == {"live", "used"}  # the access and refresh tokens live on, the code was used


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (FORM, "x=1"),
        (FORM, ""),  # an empty HTML form still sends its encoding
        ("multipart/form-data; boundary=x", ""),
        ("text/plain", "{}"),
        ("application/octet-stream", "{}"),
    ],
)
def test_control_api_refuses_a_body_that_is_not_json_even_without_origin(
    api: Client, content_type: str, body: str
) -> None:
    control(api, "post", "/clock", {"seconds": 100})
    # CONTENT_TYPE in META: Django's test client drops the header when the body is empty.
    response = api.generic(
        "POST", CONTROL + "/reset", body, content_type=content_type, CONTENT_TYPE=content_type
    )
    assert response.status_code == 415 and "application/json" in response.json()["error"]
    assert control(api, "get", "/clock")["offset_seconds"] == 100


def test_control_api_takes_a_same_origin_json_post(api: Client) -> None:
    control(api, "post", "/clock", {"seconds": 100})
    response = api.post(
        CONTROL + "/reset",
        {},
        content_type="application/json",
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert control(api, "get", "/clock")["offset_seconds"] == 0


def test_control_api_takes_requests_without_origin_or_body(api: Client) -> None:
    """Tests, curl and server-side clients send no Origin; an empty POST needs no JSON type."""
    control(api, "post", "/clock", {"seconds": 100})
    assert api.generic("POST", CONTROL + "/reset", content_type="").status_code == 200
    assert control(api, "get", "/clock")["offset_seconds"] == 0
    # wsgiref (runserver, the live server) reports a missing Content-Type as text/plain.
    empty = api.generic("DELETE", CONTROL + "/faults", CONTENT_TYPE="text/plain")
    assert empty.status_code == 200
    assert api.get(CONTROL + "/state", headers={"Sec-Fetch-Site": "none"}).status_code == 200
