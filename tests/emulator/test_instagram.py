"""Instagram Business Login and Reels publishing in the sandbox."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from django.conf import settings
from django.test import Client

from tests.emulator.conftest import (
    CONTROL,
    GRAPH,
    IG_API,
    IG_REDIRECT,
    IG_WWW,
    FileServer,
    Outbox,
    control,
    instagram_token,
    query_of,
)


def _error(response: Any) -> tuple[int, int | None]:
    error = response.json()["error"]
    return error["code"], error.get("error_subcode")


def _authorize_url(**overrides: str) -> str:
    params = {
        "client_id": settings.INSTAGRAM_APP_ID,
        "redirect_uri": IG_REDIRECT,
        "response_type": "code",
        "scope": "instagram_business_basic instagram_business_content_publish",
        "state": "st",
    }
    params.update(overrides)
    return IG_WWW + "/oauth/authorize?" + urlencode(params)


def _exchange(client: Client, code: str, **overrides: str) -> Any:
    data = {
        "client_id": settings.INSTAGRAM_APP_ID,
        "client_secret": settings.INSTAGRAM_APP_SECRET,
        "grant_type": "authorization_code",
        "redirect_uri": IG_REDIRECT,
        "code": code,
    }
    data.update(overrides)
    return client.post(IG_API + "/oauth/access_token", data)


def _create(client: Client, token: str, url: str, node: str = "me", **extra: str) -> Any:
    params = {"media_type": "REELS", "video_url": url, "access_token": token, **extra}
    return client.post(f"{GRAPH}/v23.0/{node}/media", params)


def _container(client: Client, token: str, container_id: str) -> dict[str, Any]:
    response = client.get(
        f"{GRAPH}/v23.0/{container_id}", {"fields": "status_code,status", "access_token": token}
    )
    assert response.status_code == 200, response.content
    return response.json()


def _publish(client: Client, token: str, container_id: str, node: str = "me") -> Any:
    return client.post(
        f"{GRAPH}/v23.0/{node}/media_publish?creation_id={container_id}",
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.fixture
def token(api: Client) -> str:
    return instagram_token(api)


@pytest.fixture
def good_url(video: Callable[..., bytes], file_server: FileServer) -> str:
    return file_server.put("reel.mp4", video())


@pytest.mark.parametrize(
    ("switches", "forced"),
    [
        ({"force_reauth": "true"}, True),
        ({"force_authentication": "1"}, True),
        ({"force_reauth": "true", "force_authentication": "1"}, True),
        ({}, False),
        ({"force_authentication": "0"}, False),
    ],
)
def test_consent_takes_either_reauthentication_switch(
    api: Client, switches: dict[str, str], forced: bool
) -> None:
    """PLATFORMS §2.2: `force_reauth=true` (Meta's own URLs) and `force_authentication=1`."""
    page = api.get(_authorize_url(**switches))
    assert page.status_code == 200
    assert (b"data-forced-login" in page.content) is forced
    response = api.post(_authorize_url(**switches), {"account": "ig-creator", "decision": "allow"})
    assert response.status_code == 302 and response["Location"].startswith(IG_REDIRECT + "?")


def test_consent_approves_with_code_state_and_fragment(api: Client) -> None:
    page = api.get(_authorize_url())
    assert page.status_code == 200 and b"sbx_business" in page.content
    response = api.post(
        _authorize_url(), {"account": "ig-creator", "decision": "allow", "scopes": []}
    )
    location = response["Location"]
    assert location.startswith(IG_REDIRECT + "?") and location.endswith("#_")
    query = query_of(location.removesuffix("#_"))
    assert query["state"] == "st"
    body = _exchange(api, query["code"]).json()
    # content_publish was unticked, so only the required scope was granted.
    assert body["permissions"] == "instagram_business_basic"


def test_consent_sends_a_personal_account_back_to_the_app_as_not_professional(
    api: Client,
) -> None:
    """§4.18: Business Login refuses a personal account; the refusal reaches the app's callback
    (like Cancel, without `#_`) so the app can show how to switch to a professional account."""
    response = api.post(_authorize_url(), {"account": "ig-personal", "decision": "allow"})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(IG_REDIRECT + "?") and "#" not in location
    query = query_of(location)
    assert query.pop("error_description").startswith("This is a personal account.")
    assert query == {
        "error": "access_denied",
        "error_reason": "not_professional_account",
        "state": "st",
    }
    assert control(api, "get", "/tokens?account=ig-personal") == []  # no code was issued


def test_headless_consent_for_a_personal_account_returns_the_refusal(api: Client) -> None:
    grant = control(
        api,
        "post",
        "/authorize",
        {"account": "ig-personal", "redirect_uri": IG_REDIRECT, "state": "p"},
    )
    assert grant["code"] is None and grant["error_reason"] == "not_professional_account"
    query = query_of(grant["redirect"])
    assert (query["error"], query["error_reason"], query["state"]) == (
        "access_denied",
        "not_professional_account",
        "p",
    )


def test_consent_deny_redirects_with_user_denied(api: Client) -> None:
    response = api.post(_authorize_url(), {"decision": "deny"})
    query = query_of(response["Location"])
    assert query == {
        "error": "access_denied",
        "error_reason": "user_denied",
        "error_description": "The user denied your request",
        "state": "st",
    }


def test_consent_refuses_unknown_app_and_scopes(api: Client) -> None:
    assert api.get(_authorize_url(client_id="1")).status_code == 400
    assert api.get(_authorize_url(scope="business_basic")).status_code == 400


def test_code_exchange_shapes_and_single_use(api: Client) -> None:
    grant = control(
        api,
        "post",
        "/authorize",
        {
            "account": "ig-business",
            "scopes": "instagram_business_basic",
            "redirect_uri": IG_REDIRECT,
        },
    )
    body = _exchange(api, grant["code"]).json()
    account = control(api, "get", "/accounts/ig-business")
    # PLATFORMS §2.3: flat, with permissions and a numeric user_id, by default.
    assert body == {
        "access_token": body["access_token"],
        "user_id": int(account["app_scoped_id"]),
        "permissions": "instagram_business_basic",
    }
    assert body["access_token"].startswith("IGAAS")
    again = _exchange(api, grant["code"])
    assert again.status_code == 400
    assert again.json() == {
        "error_type": "OAuthException",
        "code": 400,
        "error_message": "Matching code was not found or was already used",
    }
    control(api, "post", "/config", {"instagram_token_shape": "data"})
    grant = control(
        api,
        "post",
        "/authorize",
        {"account": "ig-business", "scopes": "", "redirect_uri": IG_REDIRECT},
    )
    [wrapped] = _exchange(api, grant["code"]).json()["data"]
    assert wrapped["user_id"] == account["app_scoped_id"]
    assert wrapped["permissions"] == "instagram_business_basic"
    assert "access_token" in wrapped


def test_code_exchange_rejects_a_wrong_secret(api: Client) -> None:
    grant = control(
        api,
        "post",
        "/authorize",
        {"account": "ig-business", "scopes": "", "redirect_uri": IG_REDIRECT},
    )
    response = _exchange(api, grant["code"], client_secret="nope")
    assert response.status_code == 400
    assert response.json()["error_message"] == "Error validating client secret."


def test_long_lived_exchange_and_refresh_rules(api: Client) -> None:
    short = instagram_token(api, long=False)
    response = api.get(
        GRAPH + "/access_token",
        {"grant_type": "ig_exchange_token", "client_secret": "wrong", "access_token": short},
    )
    assert response.status_code == 400
    long = instagram_token(api)
    too_young = api.get(
        GRAPH + "/refresh_access_token", {"grant_type": "ig_refresh_token", "access_token": long}
    )
    assert too_young.status_code == 400 and _error(too_young)[0] != 190
    control(api, "post", "/clock", {"hours": 25})
    fresh = api.get(
        GRAPH + "/refresh_access_token",
        {"grant_type": "ig_refresh_token", "access_token": long},
    ).json()
    assert fresh["token_type"] == "bearer" and fresh["expires_in"] == 5_184_000
    control(api, "post", "/clock", {"days": 61})
    dead = api.get(
        GRAPH + "/refresh_access_token",
        {"grant_type": "ig_refresh_token", "access_token": fresh["access_token"]},
    )
    assert _error(dead) == (190, 463)


@pytest.mark.parametrize("version", ["v21.0", "v25.0"])
def test_token_endpoints_exist_only_unversioned(api: Client, version: str) -> None:
    """PLATFORMS §2.1: a versioned access_token / refresh_access_token path is an error."""
    short = instagram_token(api, long=False)
    exchange = {
        "grant_type": "ig_exchange_token",
        "client_secret": settings.INSTAGRAM_APP_SECRET,
        "access_token": short,
    }
    versioned = api.get(f"{GRAPH}/{version}/access_token", exchange)
    assert versioned.status_code == 400 and _error(versioned) == (100, 33)
    long = api.get(GRAPH + "/access_token", exchange).json()["access_token"]
    control(api, "post", "/clock", {"hours": 25})
    refresh = {"grant_type": "ig_refresh_token", "access_token": long}
    versioned = api.get(f"{GRAPH}/{version}/refresh_access_token", refresh)
    assert versioned.status_code == 400 and _error(versioned) == (100, 33)
    assert api.get(GRAPH + "/refresh_access_token", refresh).status_code == 200


def test_short_lived_tokens_expire_in_an_hour(api: Client) -> None:
    short = instagram_token(api, long=False)
    assert api.get(GRAPH + "/me", {"access_token": short}).status_code == 200
    control(api, "post", "/clock", {"seconds": 3601})
    assert _error(api.get(GRAPH + "/me", {"access_token": short})) == (190, 463)


def test_me_with_and_without_version(api: Client, token: str) -> None:
    fields = "user_id,username,name,account_type,profile_picture_url,followers_count,media_count"
    for prefix in ("", "/v23.0", "/v25.0"):
        body = api.get(f"{GRAPH}{prefix}/me", {"fields": fields, "access_token": token}).json()
        assert body["username"] == "sbx_business" and body["account_type"] == "BUSINESS"
        assert body["id"] != body["user_id"]
    assert _error(api.get(GRAPH + "/me", {"access_token": "garbage"})) == (190, None)


@pytest.mark.parametrize(
    ("action", "subcode"),
    [("change_password", 460), ("checkpoint", 459), ("remove_app", 458)],
)
def test_account_events_invalidate_tokens_with_subcodes(
    api: Client, token: str, action: str, subcode: int
) -> None:
    control(api, "post", f"/accounts/ig-business/{action}")
    response = api.get(GRAPH + "/me", {"access_token": token})
    assert response.status_code == 400
    assert _error(response) == (190, subcode)


def test_clearing_a_checkpoint_by_signing_in_again(api: Client, token: str) -> None:
    control(api, "post", "/accounts/ig-business/checkpoint")
    instagram_token(api)  # signing in on the consent page clears it
    assert api.get(GRAPH + "/me", {"access_token": token}).status_code == 200


def _verify_signed_request(raw: bytes, secret: str | None = None) -> dict[str, Any]:
    signed = parse_qs(raw.decode())["signed_request"][0]
    sig, payload = signed.split(".", 1)
    key = (secret or settings.INSTAGRAM_APP_SECRET).encode()
    expected = hmac.new(key, payload.encode(), hashlib.sha256)
    assert hmac.compare_digest(
        base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)), expected.digest()
    )
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert data["algorithm"] == "HMAC-SHA256"
    return data


def test_remove_app_sends_a_signed_deauthorize_callback(
    api: Client, token: str, outbox: Outbox
) -> None:
    control(api, "post", "/accounts/ig-business/remove_app")
    [sent] = outbox.sent
    assert sent.url.endswith(settings.WEBHOOK_PATHS["instagram_deauthorize"])
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    payload = _verify_signed_request(sent.data)
    assert payload["user_id"] == control(api, "get", "/accounts/ig-business")["app_scoped_id"]


def test_callbacks_can_be_signed_with_the_parent_meta_app_secret(
    api: Client, token: str, outbox: Outbox, settings: Any
) -> None:
    """PLATFORMS §2.11: Meta is reported to sign them with the parent Meta app's secret."""
    settings.META_APP_SECRET = "meta-parent-secret"
    control(api, "patch", "/config", {"instagram_signing_secret": "meta"})
    control(api, "post", "/accounts/ig-business/remove_app")
    control(api, "post", "/accounts/ig-creator/request_data_deletion")
    for sent in outbox.sent:
        _verify_signed_request(sent.data, secret="meta-parent-secret")
        with pytest.raises(AssertionError):
            _verify_signed_request(sent.data)
    assert len(outbox.sent) == 2


def test_signing_with_the_meta_secret_needs_one_configured(api: Client, settings: Any) -> None:
    settings.META_APP_SECRET = ""
    response = api.patch(
        CONTROL + "/config", {"instagram_signing_secret": "meta"}, content_type="application/json"
    )
    assert response.status_code == 400 and "META_APP_SECRET" in response.json()["error"]
    response = api.patch(
        CONTROL + "/config", {"instagram_signing_secret": "fb"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert control(api, "get", "/config")["instagram_signing_secret"] == "instagram"


def test_data_deletion_request_records_the_reply(api: Client, outbox: Outbox) -> None:
    outbox.reply = '{"url": "https://app.example/status", "confirmation_code": "abc"}'
    result = control(api, "post", "/accounts/ig-creator/request_data_deletion")
    assert "confirmation_code" in result["delivery"]["response_body"]
    [sent] = outbox.sent
    assert sent.url.endswith(settings.WEBHOOK_PATHS["instagram_data_deletion"])
    _verify_signed_request(sent.data)


def test_reel_goes_from_container_to_published_post(api: Client, token: str, good_url: str) -> None:
    created = _create(api, token, good_url, caption="Hi @friend #reel")
    assert created.status_code == 200, created.content
    container_id = created.json()["id"]
    assert _container(api, token, container_id)["status_code"] == "IN_PROGRESS"
    early = _publish(api, token, container_id)
    assert _error(early) == (9007, 2207027)
    control(api, "post", "/clock", {"seconds": 11})
    assert _container(api, token, container_id)["status_code"] == "FINISHED"
    published = _publish(api, token, container_id)
    assert published.status_code == 200
    media_id = published.json()["id"]
    assert _container(api, token, container_id)["status_code"] == "PUBLISHED"
    media = api.get(
        f"{GRAPH}/v23.0/{media_id}",
        {"fields": "permalink,media_product_type,media_type", "access_token": token},
    ).json()
    assert media["media_product_type"] == "REELS" and media["media_type"] == "VIDEO"
    assert media["permalink"].startswith("http://testserver/_emulator/instagram/reel/")
    assert api.get(media["permalink"].removeprefix("http://testserver")).status_code == 200
    again = _publish(api, token, container_id)
    assert again.status_code == 400
    [entry] = control(api, "get", "/ledger?platform=instagram")
    assert entry["post_id"] == media_id and entry["caption"] == "Hi @friend #reel"


def test_the_user_id_and_app_scoped_id_both_work_as_node(
    api: Client, token: str, good_url: str
) -> None:
    account = control(api, "get", "/accounts/ig-business")
    for node in (account["ig_user_id"], account["app_scoped_id"]):
        assert _create(api, token, good_url, node=node).status_code == 200
    other = control(api, "get", "/accounts/ig-creator")["ig_user_id"]
    assert _error(_create(api, token, good_url, node=other)) == (100, 33)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("short", {"seconds": 1.5}),
        ("moov-at-end", {"faststart": False}),
        ("mpeg4", {"codec": "mpeg4", "audio": False}),
        ("wide", {"width": 2000, "height": 360, "audio": False, "seconds": 3.2}),
        ("webm", {"codec": "libvpx", "container": "webm", "audio": False}),
    ],
)
def test_unsupported_videos_end_in_error_2207026(
    api: Client,
    token: str,
    video: Callable[..., bytes],
    file_server: FileServer,
    name: str,
    kwargs: dict[str, Any],
) -> None:
    url = file_server.put(name, video("ig-" + name, **kwargs))
    container_id = _create(api, token, url).json()["id"]
    control(api, "post", "/clock", {"seconds": 11})
    status = _container(api, token, container_id)
    assert status["status_code"] == "ERROR"
    assert "2207026" in status["status"]
    assert _error(_publish(api, token, container_id)) == (352, 2207026)


def test_an_unfetchable_url_fails_with_2207052(
    api: Client, token: str, file_server: FileServer
) -> None:
    response = _create(api, token, file_server.base + "/missing.mp4")
    assert _error(response) == (9004, 2207052)


def test_container_validation(api: Client, token: str, good_url: str) -> None:
    assert _error(_create(api, token, good_url, media_type="VIDEO")) == (100, 2207023)
    assert _error(_create(api, token, good_url, caption="x" * 2201)) == (36004, 2207010)
    mentions = " ".join(f"@user{i}" for i in range(21))
    assert _error(_create(api, token, good_url, caption=mentions)) == (100, 2207040)
    assert _error(_create(api, token, good_url, thumb_offset="999999")) == (1, 2207057)


def test_content_publish_permission_is_needed(api: Client, good_url: str) -> None:
    token = instagram_token(api, scopes="instagram_business_basic")
    assert _error(_create(api, token, good_url))[0] == 10


def test_containers_expire_after_24_hours(api: Client, token: str, good_url: str) -> None:
    container_id = _create(api, token, good_url).json()["id"]
    control(api, "post", "/clock", {"hours": 24.1})
    assert _container(api, token, container_id)["status_code"] == "EXPIRED"
    assert _error(_publish(api, token, container_id)) == (-2, 2207020)


def test_publishing_limit_and_exhausted_quota(api: Client, token: str, good_url: str) -> None:
    limit = api.get(
        f"{GRAPH}/v23.0/me/content_publishing_limit",
        {"fields": "quota_usage,config", "access_token": token},
    ).json()
    assert limit == {
        "data": [{"quota_usage": 0, "config": {"quota_total": 100, "quota_duration": 86400}}]
    }
    container_id = _create(api, token, good_url).json()["id"]
    control(api, "post", "/clock", {"seconds": 11})
    control(api, "post", "/accounts/ig-business/exhaust_quota")
    assert _error(_publish(api, token, container_id)) == (9, 2207042)
    limit = api.get(f"{GRAPH}/me/content_publishing_limit", {"access_token": token}).json()
    assert limit == {"data": [{"quota_usage": 100}]}


def test_restricted_and_personal_accounts_cannot_post(
    api: Client, token: str, good_url: str
) -> None:
    control(api, "post", "/accounts/ig-business/ban_posting")
    assert _error(_create(api, token, good_url)) == (25, 2207050)
    control(api, "post", "/accounts/ig-business/unban_posting")
    control(api, "post", "/accounts/ig-business/make_personal")
    me = api.get(GRAPH + "/me", {"fields": "account_type", "access_token": token}).json()
    assert me["account_type"] == "PERSONAL"
    assert _error(_create(api, token, good_url))[0] == 10


def test_permissions_delete_disconnects(api: Client, token: str, outbox: Outbox) -> None:
    response = api.delete(f"{GRAPH}/v23.0/me/permissions?access_token={token}")
    assert response.json() == {"success": True}
    assert _error(api.get(GRAPH + "/me", {"access_token": token}))[0] == 190
    assert outbox.sent == []
