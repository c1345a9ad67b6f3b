"""Registered redirect URIs: the sandbox redirects only to URIs registered for the app, matched
exactly (PLATFORMS §1.2, §2.2). In the demo it shares Switchboard's origin, so anything looser
is an open redirect on our origin."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from tests.emulator.conftest import (
    ALL_IG_SCOPES,
    CONTROL,
    IG_API,
    IG_REDIRECT,
    IG_WWW,
    REDIRECT,
    TT,
    TT_WWW,
    control,
    query_of,
)

EVIL = "https://evil.example/cb"
APP = "https://app.example/cb/"
OWN = {"tiktok": REDIRECT, "instagram": IG_REDIRECT}
ACCOUNT = {"tiktok": "tt-public", "instagram": "ig-business"}
PLATFORMS = pytest.mark.parametrize("platform", ["tiktok", "instagram"])
VERIFIER = "v" * 64
CHALLENGE = hashlib.sha256(VERIFIER.encode()).hexdigest()


def _authorize_url(platform: str, redirect_uri: str, **overrides: str) -> str:
    if platform == "tiktok":
        params = {
            "client_key": settings.TIKTOK_CLIENT_KEY,
            "scope": "user.info.basic,video.publish",
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": "st",
            # PKCE is required (PLATFORMS §1.2): hex(SHA-256(verifier)).
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
        }
        path = TT_WWW + "/v2/auth/authorize/"
    else:
        params = {
            "client_id": settings.INSTAGRAM_APP_ID,
            "scope": ALL_IG_SCOPES,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": "st",
        }
        path = IG_WWW + "/oauth/authorize"
    params.update(overrides)
    return path + "?" + urlencode(params)


def _register(client: Client, platform: str, *uris: str) -> dict[str, Any]:
    return control(client, "patch", "/config", {f"{platform}_registered_redirect_uris": list(uris)})


def _exchange(client: Client, platform: str, code: str, redirect_uri: str) -> Any:
    if platform == "tiktok":
        return client.post(
            TT + "/v2/oauth/token/",
            {
                "client_key": settings.TIKTOK_CLIENT_KEY,
                "client_secret": settings.TIKTOK_CLIENT_SECRET,
                "code": code,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code_verifier": VERIFIER,
            },
        )
    return client.post(
        IG_API + "/oauth/access_token",
        {
            "client_id": settings.INSTAGRAM_APP_ID,
            "client_secret": settings.INSTAGRAM_APP_SECRET,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code": code,
        },
    )


def _refused_without_redirect(response: Any) -> bool:
    return response.status_code == 400 and "Location" not in response


@PLATFORMS
def test_it_accepts_switchboards_own_callback_without_registering_it(
    api: Client, platform: str
) -> None:
    assert OWN[platform] == settings.PUBLIC_BASE_URL + settings.OAUTH_REDIRECT_PATHS[platform]
    assert api.get(_authorize_url(platform, OWN[platform])).status_code == 200
    effective = control(api, "get", "/config")["effective_redirect_uris"]
    assert effective[platform] == [OWN[platform]]


@PLATFORMS
def test_it_refuses_an_unregistered_https_uri_without_redirecting(
    api: Client, platform: str
) -> None:
    url = _authorize_url(platform, EVIL)
    page = api.get(url)
    assert _refused_without_redirect(page)
    assert b"not registered" in page.content
    # Cancel and Authorize were the open redirects: neither may reach the unregistered URI.
    assert _refused_without_redirect(api.post(url, {"decision": "deny"}))
    assert _refused_without_redirect(
        api.post(url, {"decision": "allow", "account": ACCOUNT[platform]})
    )
    assert control(api, "get", f"/tokens?account={ACCOUNT[platform]}") == []


def test_tiktok_errors_that_redirect_still_need_a_registered_uri(api: Client) -> None:
    """invalid_scope and unsupported_response_type go back to the app (§1.2), never elsewhere."""
    assert _refused_without_redirect(api.get(_authorize_url("tiktok", EVIL, scope="bogus")))
    assert _refused_without_redirect(api.get(_authorize_url("tiktok", EVIL, response_type="x")))
    redirected = api.get(_authorize_url("tiktok", REDIRECT, scope="bogus"))
    assert redirected["Location"].startswith(REDIRECT + "?")


@PLATFORMS
def test_it_redirects_to_a_uri_registered_through_the_control_api(
    api: Client, platform: str
) -> None:
    config = _register(api, platform, APP)
    assert config[f"{platform}_registered_redirect_uris"] == [APP]
    assert config["effective_redirect_uris"][platform] == [OWN[platform], APP]
    url = _authorize_url(platform, APP)
    denied = api.post(url, {"decision": "deny"})
    assert denied.status_code == 302 and denied["Location"].startswith(APP + "?")
    approved = api.post(url, {"decision": "allow", "account": ACCOUNT[platform]})
    assert approved.status_code == 302 and approved["Location"].startswith(APP + "?")
    code = query_of(approved["Location"].removesuffix("#_"))["code"]
    exchanged = _exchange(api, platform, code, APP)
    assert exchanged.status_code == 200 and "error" not in exchanged.json(), exchanged.content


@PLATFORMS
def test_it_matches_registered_uris_exactly(api: Client, platform: str) -> None:
    """§1.2 "must exactly match a registered one"; §2.2 "exactly (trailing slash too)"."""
    _register(api, platform, APP)
    for near_miss in (
        APP.rstrip("/"),  # trailing slash
        APP + "?next=/x",  # an added query
        APP + "more/",  # a longer path
        APP.replace("https:", "http:"),
        "https://app.example.evil.example/cb/",
    ):
        assert _refused_without_redirect(api.get(_authorize_url(platform, near_miss))), near_miss


def test_instagram_matches_a_registered_query_exactly(api: Client) -> None:
    _register(api, "instagram", APP + "?client=1")
    assert api.get(_authorize_url("instagram", APP + "?client=1")).status_code == 200
    assert _refused_without_redirect(api.get(_authorize_url("instagram", APP + "?client=2")))
    assert _refused_without_redirect(api.get(_authorize_url("instagram", APP)))


@PLATFORMS
def test_the_token_endpoint_refuses_a_redirect_uri_no_longer_registered(
    api: Client, platform: str
) -> None:
    _register(api, platform, APP)
    grant = control(
        api,
        "post",
        "/authorize",
        {"account": ACCOUNT[platform], "redirect_uri": APP, "code_challenge": CHALLENGE},
    )
    _register(api, platform)  # unregistered between consent and code exchange
    response = _exchange(api, platform, grant["code"], APP)
    if platform == "tiktok":
        assert response.json()["error"] == "invalid_grant"
        assert "not registered" in response.json()["error_description"]
    else:
        assert response.status_code == 400
        assert "redirect_uri" in response.json()["error_message"]


def test_the_instagram_token_endpoint_refuses_another_redirect_uri(api: Client) -> None:
    _register(api, "instagram", APP)
    grant = control(api, "post", "/authorize", {"account": "ig-business", "redirect_uri": APP})
    response = _exchange(api, "instagram", grant["code"], IG_REDIRECT)
    assert response.status_code == 400
    assert "identical" in response.json()["error_message"]


@PLATFORMS
def test_headless_consent_refuses_an_unregistered_redirect_uri(api: Client, platform: str) -> None:
    response = api.post(
        CONTROL + "/authorize",
        {"account": ACCOUNT[platform], "redirect_uri": EVIL},
        content_type="application/json",
    )
    assert response.status_code == 400 and "not registered" in response.json()["error"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tiktok_registered_redirect_uris", [APP + "?x=1"]),  # TikTok: no query (§1.2)
        ("tiktok_registered_redirect_uris", [APP + "#f"]),
        ("instagram_registered_redirect_uris", ["http://app.example/cb/"]),  # https only
        ("instagram_registered_redirect_uris", ["/oauth/callback/ig/"]),
        ("instagram_registered_redirect_uris", [1]),
        ("tiktok_registered_redirect_uris", [f"https://app.example/{n}/" for n in range(10)]),
    ],
)
def test_registering_follows_the_platforms_redirect_uri_rules(
    api: Client, field: str, value: Any
) -> None:
    response = api.patch(CONTROL + "/config", {field: value}, content_type="application/json")
    assert response.status_code == 400, response.content
    assert control(api, "get", "/config")[field] == []


def test_localhost_uris_can_be_registered_and_reset_forgets_them(api: Client) -> None:
    """A test's live server (http on localhost) is what extra registrations are for."""
    live = "http://localhost:51234/oauth/callback/tt/"
    _register(api, "tiktok", live)
    assert api.get(_authorize_url("tiktok", live)).status_code == 200
    control(api, "post", "/reset")
    assert _refused_without_redirect(api.get(_authorize_url("tiktok", live)))


def test_the_control_page_shows_and_saves_registered_redirect_uris(api: Client) -> None:
    _register(api, "instagram", APP)
    page = api.get("/_emulator/control/").content.decode()
    assert REDIRECT in page and IG_REDIRECT in page and APP in page
    assert 'name="tiktok_registered_redirect_uris"' in page
    assert f'name="instagram_registered_redirect_uris" value="{APP}"' in page
    # Submit the settings form as the page would: every current value, two URIs typed in.
    config = control(api, "get", "/config")
    form = {k: v for k, v in config.items() if isinstance(v, str | int) and v is not False}
    form.update({k: "1" for k, v in config.items() if v is True})
    form["tiktok_registered_redirect_uris"] = "https://a.example/cb, https://b.example/cb"
    form["instagram_registered_redirect_uris"] = ""
    assert api.post("/_emulator/control/config/", form).status_code == 302
    config = control(api, "get", "/config")
    assert config["tiktok_registered_redirect_uris"] == [
        "https://a.example/cb",
        "https://b.example/cb",
    ]
    assert config["instagram_registered_redirect_uris"] == []
