"""TikTok Login Kit in the sandbox: consent page, token grants, rotation, revoke, user info."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from apps.emulator import tokens
from apps.emulator.models import SandboxAccount, SandboxToken
from tests.emulator.conftest import (
    CONTROL,
    REDIRECT,
    TT,
    TT_WWW,
    Outbox,
    bearer,
    control,
    query_of,
    tiktok_tokens,
)

AUTHORIZE = TT_WWW + "/v2/auth/authorize/"
VERIFIER = "v" * 64
# PLATFORMS §1.2: hex(SHA-256(verifier)).
CHALLENGE = hashlib.sha256(VERIFIER.encode()).hexdigest()


def _authorize_url(*, drop: tuple[str, ...] = (), **overrides: str) -> str:
    params = {
        "client_key": settings.TIKTOK_CLIENT_KEY,
        "scope": "user.info.basic,video.publish,video.list",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "state": "xyz",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return AUTHORIZE + "?" + urlencode({k: v for k, v in params.items() if k not in drop})


def _token(client: Client, **data: str) -> Any:
    body = {
        "client_key": settings.TIKTOK_CLIENT_KEY,
        "client_secret": settings.TIKTOK_CLIENT_SECRET,
    }
    body.update(data)
    return client.post(TT + "/v2/oauth/token/", body)


def test_it_shows_the_account_picker_and_scopes(api: Client) -> None:
    response = api.get(_authorize_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert "sbx.creator" in page and "sbx.private" in page and "sbx.shorts" in page
    assert "video.publish" in page and "csrfmiddlewaretoken" in page


def test_it_redirects_with_code_and_only_the_ticked_scopes() -> None:
    client = Client(enforce_csrf_checks=True)
    url = _authorize_url()
    client.get(url)
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        url,
        {
            "account": "tt-private",
            "scopes": ["video.publish"],
            "decision": "allow",
            "csrfmiddlewaretoken": csrf,
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT + "?")
    query = query_of(response["Location"])
    assert query["scopes"] == "user.info.basic,video.publish"  # video.list was unticked
    assert query["state"] == "xyz"
    # Real codes need URL-decoding: the sandbox's contain "*" and "!".
    assert "%2A" in response["Location"] and "*" in query["code"]
    tokens = _token(
        client,
        code=query["code"],
        grant_type="authorization_code",
        redirect_uri=REDIRECT,
        code_verifier=VERIFIER,
    ).json()
    assert tokens["scope"] == "user.info.basic,video.publish"
    assert tokens["open_id"] == control(client, "get", "/accounts/tt-private")["open_id"]


@pytest.mark.parametrize(
    ("drop", "overrides"),
    [
        (("code_challenge", "code_challenge_method"), {}),
        (("code_challenge",), {}),
        ((), {"code_challenge": ""}),
    ],
)
def test_it_refuses_an_authorize_request_without_a_pkce_challenge(
    api: Client, drop: tuple[str, ...], overrides: dict[str, str]
) -> None:
    url = _authorize_url(drop=drop, **overrides)
    for response in (api.get(url), api.post(url, {"account": "tt-public", "decision": "allow"})):
        # PLATFORMS §1.2: TikTok's own error page, errCode=10007, no redirect to the app.
        assert response.status_code == 400
        assert "Location" not in response
        page = response.content.decode()
        assert 'data-err-code="10007"' in page and 'data-error-type="code_challenge"' in page
        assert "errCode=10007" in page and "error_type=code_challenge" in page
    assert control(api, "get", "/tokens") == []


def test_it_shows_the_consent_page_with_a_challenge(api: Client) -> None:
    response = api.get(_authorize_url())
    assert response.status_code == 200
    assert b"10007" not in response.content


def test_it_refuses_the_consent_post_without_csrf() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(_authorize_url(), {"account": "tt-public", "decision": "allow"})
    assert response.status_code == 403


def test_it_redirects_access_denied_when_the_user_cancels(api: Client) -> None:
    response = api.post(_authorize_url(), {"decision": "deny"})
    query = query_of(response["Location"])
    assert query["error"] == "access_denied" and query["state"] == "xyz"
    assert query["error_description"]


def test_it_asks_again_when_no_account_is_chosen(api: Client) -> None:
    response = api.post(_authorize_url(), {"decision": "allow"})
    assert response.status_code == 200
    assert b"Choose the account" in response.content


def test_it_refuses_an_unknown_client_key_without_redirecting(api: Client) -> None:
    response = api.get(_authorize_url(client_key="nope"))
    assert response.status_code == 400
    assert "Location" not in response


def test_it_refuses_bad_redirect_uris(api: Client) -> None:
    control(
        api, "patch", "/config", {"tiktok_registered_redirect_uris": ["https://app.example/cb"]}
    )
    for uri in ("http://evil.example/cb", "/relative", REDIRECT + "?x=1", "https://a.example/#f"):
        assert api.get(_authorize_url(redirect_uri=uri)).status_code == 400, uri
    assert api.get(_authorize_url(redirect_uri="https://app.example/cb")).status_code == 200


def test_it_redirects_invalid_scope_and_response_type(api: Client) -> None:
    response = api.get(_authorize_url(scope="user.info.basic,bogus"))
    assert query_of(response["Location"])["error"] == "invalid_scope"
    response = api.get(_authorize_url(response_type="token"))
    assert query_of(response["Location"])["error"] == "unsupported_response_type"


def _headless_code(api: Client, **body: str) -> str:
    """A code from the control API's headless consent, bound to CHALLENGE."""
    grant = control(
        api,
        "post",
        "/authorize",
        {"account": "tt-public", "redirect_uri": REDIRECT, "code_challenge": CHALLENGE, **body},
    )
    return query_of(grant["redirect"])["code"]


def test_it_exchanges_a_code_once(api: Client) -> None:
    code = _headless_code(api, scopes="video.publish")
    exchange = {
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
    }
    body = _token(api, **exchange).json()
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("act.") and body["refresh_token"].startswith("rft.")
    assert body["expires_in"] == 7200 and body["refresh_expires_in"] == 15_552_000
    again = _token(api, **exchange)
    assert again.json()["error"] == "invalid_grant"
    assert "log_id" in again.json()


def test_it_rejects_a_redirect_uri_mismatch(api: Client) -> None:
    code = _headless_code(api, scopes="")
    response = _token(
        api,
        code=code,
        grant_type="authorization_code",
        redirect_uri=REDIRECT + "x/",
        code_verifier=VERIFIER,
    )
    assert response.json()["error"] == "invalid_grant"


def test_the_headless_consent_refuses_a_tiktok_request_without_a_pkce_challenge(
    api: Client,
) -> None:
    """PLATFORMS §1.2: TikTok requires PKCE; the control API's shortcut does too."""
    for challenge in ({}, {"code_challenge": ""}):
        response = api.post(
            CONTROL + "/authorize",
            {"account": "tt-public", "redirect_uri": REDIRECT, **challenge},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "code_challenge" in response.json()["error"]
    response = api.post(
        CONTROL + "/authorize",
        {
            "account": "tt-public",
            "redirect_uri": REDIRECT,
            "code_challenge": CHALLENGE,
            "code_challenge_method": "plain",
        },
        content_type="application/json",
    )
    assert response.status_code == 400 and "S256" in response.json()["error"]
    assert control(api, "get", "/tokens") == []


def test_a_code_stored_without_a_challenge_is_never_exchanged(api: Client) -> None:
    """No consent issues one any more; if one existed, no verifier (or none) would unlock it."""
    control(api, "get", "/state")  # seeds the accounts
    code = tokens.issue(
        kind=SandboxToken.Kind.TT_CODE,
        account=SandboxAccount.objects.get(key="tt-public"),
        scopes=["user.info.basic"],
        ttl=300,
        redirect_uri=REDIRECT,
    )
    for verifier in ({}, {"code_verifier": VERIFIER}):
        response = _token(
            api, code=code.value, grant_type="authorization_code", redirect_uri=REDIRECT, **verifier
        )
        assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("verifier", [None, "", "w" * 64, CHALLENGE])
def test_a_headless_code_is_exchanged_only_with_its_verifier(
    api: Client, verifier: str | None
) -> None:
    code = _headless_code(api, scopes="")
    exchange = {"code": code, "grant_type": "authorization_code", "redirect_uri": REDIRECT}
    if verifier is not None:
        exchange["code_verifier"] = verifier
    response = _token(api, **exchange)
    assert response.json()["error"] == "invalid_grant"
    assert "code_verifier" in response.json()["error_description"]
    assert "access_token" in _token(api, **{**exchange, "code_verifier": VERIFIER}).json()


def test_it_rejects_a_wrong_client_secret(api: Client) -> None:
    response = api.post(
        TT + "/v2/oauth/token/",
        {
            "client_key": settings.TIKTOK_CLIENT_KEY,
            "client_secret": "wrong",
            "grant_type": "refresh_token",
            "refresh_token": "rft.x",
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_it_rejects_an_unsupported_grant_type(api: Client) -> None:
    assert _token(api, grant_type="password").json()["error"] == "unsupported_grant_type"


def test_it_rotates_refresh_tokens_and_kills_the_old_one(api: Client) -> None:
    tokens = tiktok_tokens(api)
    control(api, "post", "/clock", {"seconds": 3600})
    fresh = _token(api, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert fresh["access_token"] != tokens["access_token"]
    # The chain keeps its deadline: refresh_expires_in is the remaining lifetime.
    assert fresh["refresh_expires_in"] == 15_552_000 - 3600
    reused = _token(api, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert reused.status_code == 200 and reused.json()["error"] == "invalid_grant"
    newer = _token(api, grant_type="refresh_token", refresh_token=fresh["refresh_token"])
    assert "access_token" in newer.json()


def test_it_expires_access_and_refresh_tokens_with_the_clock(api: Client) -> None:
    control(api, "post", "/config", {"tiktok_access_ttl": 60, "tiktok_refresh_ttl": 120})
    tokens = tiktok_tokens(api)
    assert tokens["expires_in"] == 60
    info = TT + "/v2/user/info/?fields=open_id"
    assert api.get(info, headers=bearer(tokens["access_token"])).status_code == 200
    control(api, "post", "/clock", {"seconds": 61})
    expired = api.get(info, headers=bearer(tokens["access_token"]))
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "access_token_invalid"
    control(api, "post", "/clock", {"seconds": 60})
    refresh = _token(api, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"


def test_user_info_returns_granted_fields(api: Client) -> None:
    tokens = tiktok_tokens(api, scopes="user.info.basic,user.info.profile")
    response = api.get(
        TT + "/v2/user/info/?fields=open_id,union_id,avatar_url,display_name,username",
        headers=bearer(tokens["access_token"]),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["error"] == {"code": "ok", "message": "", "log_id": body["error"]["log_id"]}
    user = body["data"]["user"]
    assert user["username"] == "sbx.creator" and user["open_id"] == tokens["open_id"]
    assert user["avatar_url"].startswith("http://testserver/_emulator/")


def test_user_info_refuses_fields_needing_ungranted_scopes(api: Client) -> None:
    tokens = tiktok_tokens(api, scopes="user.info.basic")
    response = api.get(
        TT + "/v2/user/info/?fields=open_id,follower_count", headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "scope_permission_missed"


def test_it_needs_a_bearer_token(api: Client) -> None:
    response = api.get(TT + "/v2/user/info/?fields=open_id")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "access_token_invalid"


def test_revoke_kills_every_token_and_sends_a_signed_webhook(api: Client, outbox: Outbox) -> None:
    tokens = tiktok_tokens(api)
    response = api.post(
        TT + "/v2/oauth/revoke/",
        {
            "client_key": settings.TIKTOK_CLIENT_KEY,
            "client_secret": settings.TIKTOK_CLIENT_SECRET,
            "token": tokens["access_token"],
        },
    )
    assert response.status_code == 200 and response.json() == {}
    info = api.get(TT + "/v2/user/info/?fields=open_id", headers=bearer(tokens["access_token"]))
    assert info.status_code == 401
    refresh = _token(api, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"
    [sent] = outbox.sent
    assert sent.url == settings.PUBLIC_BASE_URL + settings.WEBHOOK_PATHS["tiktok"]
    body = json.loads(sent.data)
    assert body["event"] == "authorization.removed"
    assert body["client_key"] == settings.TIKTOK_CLIENT_KEY
    assert body["user_openid"] == tokens["open_id"]
    assert json.loads(body["content"]) == {"reason": 5}
    t, s = (part.split("=", 1)[1] for part in sent.headers["TikTok-Signature"].split(","))
    expected = hmac.new(
        settings.TIKTOK_CLIENT_SECRET.encode(), f"{t}.{sent.data.decode()}".encode(), hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(s, expected)


def test_revoke_with_a_wrong_secret_is_invalid_client(api: Client) -> None:
    response = api.post(
        TT + "/v2/oauth/revoke/",
        {"client_key": settings.TIKTOK_CLIENT_KEY, "client_secret": "x", "token": "act.x"},
    )
    assert response.json()["error"] == "invalid_client"


def test_changing_the_password_invalidates_tokens(api: Client) -> None:
    tokens = tiktok_tokens(api)
    control(api, "post", "/accounts/tt-public/change_password")
    info = api.get(TT + "/v2/user/info/?fields=open_id", headers=bearer(tokens["access_token"]))
    assert info.status_code == 401
    refresh = _token(api, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"


def test_remove_app_sends_reason_and_goes_to_an_overridden_target(
    api: Client, outbox: Outbox
) -> None:
    tiktok_tokens(api)
    control(api, "post", "/config", {"tiktok_webhook_url": "http://127.0.0.1:9999/hook/"})
    result = control(api, "post", "/accounts/tt-public/remove_app", {"reason": 1})
    assert result["delivery"]["status_code"] == 200
    [sent] = outbox.sent
    assert sent.url == "http://127.0.0.1:9999/hook/"
    assert json.loads(json.loads(sent.data)["content"]) == {"reason": 1}
    deliveries = api.get(CONTROL + "/webhooks").json()
    assert deliveries[0]["kind"] == "tiktok:authorization.removed"
