"""Instagram client: the exact request each function sends and the typed value it parses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from apps.platforms.errors import AuthReason, Category, PlatformError
from apps.platforms.instagram import client
from apps.platforms.instagram.types import (
    Container,
    ContainerStatus,
    InstagramProfile,
    MediaInfo,
    PublishedMedia,
    PublishingLimit,
)
from tests.platforms.fakes import FakeHttp

GRAPH = "https://graph.instagram.test"
V = f"{GRAPH}/v23.0"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _error(code: int, subcode: int | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": "m", "type": "OAuthException", "code": code, **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": {**error, "fbtrace_id": "trace-1"}}


# --- OAuth -------------------------------------------------------------------------------------


def test_it_builds_the_authorize_url() -> None:
    url = client.authorize_url(redirect_uri="https://app.test/oauth/callback/ig/", state="st")

    assert url.startswith("https://auth.instagram.test/oauth/authorize?")
    assert parse_qs(urlsplit(url).query) == {
        "client_id": ["1234"],
        "redirect_uri": ["https://app.test/oauth/callback/ig/"],
        "response_type": ["code"],
        "scope": ["instagram_business_basic,instagram_business_content_publish"],
        "state": ["st"],
    }


def test_it_adds_the_optional_authorize_switches() -> None:
    url = client.authorize_url(
        redirect_uri="https://app.test/cb/",
        state="s",
        force_authentication=True,
        enable_fb_login=False,
    )

    query = parse_qs(urlsplit(url).query)
    # PLATFORMS §2.2: `force_reauth=true` forces the re-login; `force_authentication=1` is extra.
    assert query["force_reauth"] == ["true"]
    assert (query["force_authentication"], query["enable_fb_login"]) == (["1"], ["0"])


def _assert_code_exchange_call(fake_http: FakeHttp) -> None:
    call = fake_http.last
    assert (call.method, call.url) == ("POST", "https://api.instagram.test/oauth/access_token")
    assert call.data == {
        "client_id": "1234",
        "client_secret": "ig-secret",
        "grant_type": "authorization_code",
        "redirect_uri": "https://app.test/cb/",
        "code": "AQBx",
    }


def test_it_exchanges_a_code_with_the_current_data_list_shape(fake_http: FakeHttp) -> None:
    fake_http.reply(
        200,
        {
            "data": [
                {
                    "access_token": "IGAAshort",
                    "user_id": "1020",
                    "permissions": "instagram_business_basic,instagram_business_content_publish",
                }
            ]
        },
    )

    tokens = client.exchange_code(code="AQBx#_", redirect_uri="https://app.test/cb/")

    _assert_code_exchange_call(fake_http)
    assert tokens.access_token == "IGAAshort"
    assert tokens.account_id == "1020"
    assert tokens.scopes == client.PUBLISH_SCOPES
    assert tokens.expires_in == 3600


def test_it_exchanges_a_code_with_the_legacy_flat_shape(fake_http: FakeHttp) -> None:
    fake_http.reply(200, {"access_token": "IGAAshort", "user_id": 17841400000000000})

    tokens = client.exchange_code(code="AQBx", redirect_uri="https://app.test/cb/")

    _assert_code_exchange_call(fake_http)
    assert tokens.account_id == "17841400000000000"  # a number on the wire, a string here
    assert tokens.scopes is None  # not reported, so unknown (not "none granted")


@pytest.mark.parametrize(
    "permissions",
    [
        "instagram_business_basic,instagram_business_content_publish",
        ["instagram_business_basic", "instagram_business_content_publish"],
    ],
)
def test_it_exchanges_a_code_with_the_flat_shape_and_permissions(
    fake_http: FakeHttp, permissions: object
) -> None:
    # PLATFORMS §2.3: what every production client reads, and the sandbox's default.
    fake_http.reply(
        200,
        {"access_token": "IGAAshort", "user_id": 26900000000000001, "permissions": permissions},
    )

    tokens = client.exchange_code(code="AQBx", redirect_uri="https://app.test/cb/")

    _assert_code_exchange_call(fake_http)
    assert tokens.access_token == "IGAAshort"
    assert tokens.account_id == "26900000000000001"
    assert tokens.scopes == client.PUBLISH_SCOPES
    assert tokens.expires_in == 3600


def test_it_reports_a_declined_permission(fake_http: FakeHttp) -> None:
    fake_http.reply(
        200,
        {
            "data": [
                {"access_token": "t", "user_id": "1", "permissions": "instagram_business_basic"}
            ]
        },
    )

    tokens = client.exchange_code(code="AQBx", redirect_uri="https://app.test/cb/")

    assert tokens.missing_scopes(client.PUBLISH_SCOPES) == {"instagram_business_content_publish"}


def test_it_maps_a_spent_code_to_auth(fake_http: FakeHttp) -> None:
    fake_http.reply(
        400,
        {
            "error_type": "OAuthException",
            "code": 400,
            "error_message": "Matching code was not found or was already used",
        },
    )

    with pytest.raises(PlatformError) as caught:
        client.exchange_code(code="AQBx", redirect_uri="https://app.test/cb/")

    assert (caught.value.category, caught.value.code) == (Category.AUTH, "oauth_400")
    assert "already used" in caught.value.detail


def test_it_exchanges_for_a_long_lived_token(fake_http: FakeHttp) -> None:
    fake_http.reply(
        200, {"access_token": "IGAAlong", "token_type": "bearer", "expires_in": 5183944}
    )

    tokens = client.exchange_long_lived(short_lived_token="IGAAshort")

    call = fake_http.last
    assert (call.method, call.url) == ("GET", f"{GRAPH}/access_token")  # unversioned
    assert call.params == {
        "grant_type": "ig_exchange_token",
        "client_secret": "ig-secret",
        "access_token": "IGAAshort",
    }
    assert (tokens.access_token, tokens.expires_in) == ("IGAAlong", 5183944)


def test_it_refreshes_a_token_older_than_a_day(fake_http: FakeHttp) -> None:
    fake_http.reply(200, {"access_token": "IGAAnew", "token_type": "bearer", "expires_in": 5184000})

    tokens = client.refresh_long_lived(
        access_token="IGAAold", issued_at=NOW - timedelta(hours=24), now=NOW
    )

    call = fake_http.last
    assert (call.method, call.url) == ("GET", f"{GRAPH}/refresh_access_token")
    assert call.params == {"grant_type": "ig_refresh_token", "access_token": "IGAAold"}
    assert tokens.access_token == "IGAAnew"


@pytest.mark.parametrize(
    ("age", "retry_after"),
    [(timedelta(0), 86_400), (timedelta(hours=23, minutes=59, seconds=59), 1)],
)
def test_it_refuses_to_refresh_a_token_younger_than_a_day(
    fake_http: FakeHttp, age: timedelta, retry_after: int
) -> None:
    with pytest.raises(PlatformError) as caught:
        client.refresh_long_lived(access_token="IGAAold", issued_at=NOW - age, now=NOW)

    error = caught.value
    assert fake_http.calls == []  # refused before any request
    assert (error.category, error.code, error.retry_after) == (
        Category.TRANSIENT,
        "token_too_young",
        retry_after,
    )


def test_it_uses_the_real_clock_for_the_day_rule(fake_http: FakeHttp) -> None:
    fake_http.reply(200, {"access_token": "IGAAnew", "expires_in": 5184000})

    with time_machine.travel(NOW, tick=False), pytest.raises(PlatformError):
        client.refresh_long_lived(access_token="t", issued_at=NOW - timedelta(hours=1))
    with time_machine.travel(NOW + timedelta(hours=23), tick=False):
        client.refresh_long_lived(access_token="t", issued_at=NOW - timedelta(hours=1))

    assert len(fake_http.calls) == 1


def test_it_reports_a_dead_token_on_refresh(fake_http: FakeHttp) -> None:
    fake_http.reply(400, _error(190, 463))

    with pytest.raises(PlatformError) as caught:
        client.refresh_long_lived(access_token="t", issued_at=NOW - timedelta(days=61), now=NOW)

    assert (caught.value.category, caught.value.auth_reason) == (Category.AUTH, AuthReason.EXPIRED)
    assert caught.value.log_id == "trace-1"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [(200, {"success": True}, True), (200, True, True), (400, _error(100), False)],
)
def test_it_deletes_permissions_best_effort(
    fake_http: FakeHttp, status: int, body: Any, expected: bool
) -> None:
    fake_http.reply(status, body)

    assert client.delete_permissions(access_token="t") is expected
    call = fake_http.last
    assert (call.method, call.url, call.params) == (
        "DELETE",
        f"{GRAPH}/me/permissions",
        {"access_token": "t"},
    )


def test_it_swallows_a_transport_failure_when_deleting_permissions(fake_http: FakeHttp) -> None:
    fake_http.fail(timeout=True)

    assert client.delete_permissions(access_token="t") is False


# --- Graph -------------------------------------------------------------------------------------


def test_it_fetches_the_profile(fake_http: FakeHttp) -> None:
    fake_http.reply(
        200,
        {
            "id": "app-scoped-1",
            "user_id": "17841400000000000",
            "username": "northwind",
            "account_type": "BUSINESS",
            "followers_count": 12,
            "media_count": 3,
        },
    )

    profile = client.get_me(access_token="t")

    call = fake_http.last
    assert (call.method, call.url) == ("GET", f"{V}/me")
    assert call.params == {"fields": client.PROFILE_FIELDS, "access_token": "t"}
    assert profile == InstagramProfile(
        id="app-scoped-1",
        user_id="17841400000000000",
        username="northwind",
        account_type="BUSINESS",
        followers_count=12,
        media_count=3,
    )
    assert profile.is_professional


def test_it_spots_a_personal_account(fake_http: FakeHttp) -> None:
    fake_http.reply(200, {"id": "1", "user_id": "2", "account_type": "PERSONAL"})

    assert client.get_me(access_token="t").is_professional is False


def test_it_reads_the_graph_version_at_call_time(fake_http: FakeHttp, settings: Any) -> None:
    settings.INSTAGRAM_GRAPH_VERSION = "v25.0"
    fake_http.reply(200, {"id": "1", "user_id": "2"})

    client.get_me(access_token="t", fields=client.PROBE_FIELDS)

    assert fake_http.last.url == f"{GRAPH}/v25.0/me"
    assert fake_http.last.params == {"fields": "user_id,username,account_type", "access_token": "t"}


def test_it_creates_a_reels_container(fake_http: FakeHttp) -> None:
    fake_http.reply(200, {"id": "c-1"})

    container = client.create_reel_container(
        access_token="t",
        ig_user_id="17841",
        video_url="https://media.test/v.mp4",
        caption="hello #tag",
        share_to_feed=True,
        thumb_offset_ms=1500,
    )

    call = fake_http.last
    assert (call.method, call.url) == ("POST", f"{V}/17841/media")
    assert call.params == {"access_token": "t"}
    assert call.json == {
        "media_type": "REELS",
        "video_url": "https://media.test/v.mp4",
        "caption": "hello #tag",
        "share_to_feed": True,
        "thumb_offset": 1500,
    }
    assert container == Container(id="c-1")


def test_it_sends_only_required_container_fields_by_default(fake_http: FakeHttp) -> None:
    fake_http.reply(200, {"id": "c-1"})

    client.create_reel_container(
        access_token="t", ig_user_id="me", video_url="https://media.test/v.mp4"
    )

    assert fake_http.last.json == {"media_type": "REELS", "video_url": "https://media.test/v.mp4"}


def test_it_polls_container_status(fake_http: FakeHttp) -> None:
    fake_http.reply(200, {"status_code": "FINISHED", "id": "c-1"})

    status = client.get_container_status(access_token="t", container_id="c-1")

    call = fake_http.last
    assert (call.method, call.url) == ("GET", f"{V}/c-1")
    assert call.params == {"fields": "status_code,status", "access_token": "t"}
    assert status == ContainerStatus(id="c-1", status_code="FINISHED")
    assert status.is_ready and status.error is None


def test_it_maps_a_container_error_by_its_subcode(fake_http: FakeHttp) -> None:
    fake_http.reply(
        200,
        {
            "status_code": "ERROR",
            "status": "Error: Media upload has failed with error code 2207026",
            "id": "c-1",
        },
    )

    status = client.get_container_status(access_token="t", container_id="c-1")

    assert status.error is not None
    assert (status.error.category, status.error.code) == (Category.CONTENT, "352/2207026")


def test_it_maps_an_expired_container_to_a_restart(fake_http: FakeHttp) -> None:
    fake_http.reply(200, {"status_code": "EXPIRED", "id": "c-1"})

    error = client.get_container_status(access_token="t", container_id="c-1").error

    assert error is not None
    assert (error.category, error.restart) == (Category.TRANSIENT, True)


def test_it_publishes_a_container(fake_http: FakeHttp) -> None:
    fake_http.reply(200, {"id": "m-1"})

    media = client.publish_container(access_token="t", ig_user_id="17841", container_id="c-1")

    call = fake_http.last
    assert (call.method, call.url) == ("POST", f"{V}/17841/media_publish")
    assert call.params == {"creation_id": "c-1", "access_token": "t"}
    assert media == PublishedMedia(id="m-1")


def test_it_reports_a_container_not_ready_yet(fake_http: FakeHttp) -> None:
    fake_http.reply(400, _error(9007, 2207027))

    with pytest.raises(PlatformError) as caught:
        client.publish_container(access_token="t", ig_user_id="1", container_id="c")

    assert (caught.value.category, caught.value.retry_after) == (Category.TRANSIENT, 60)


def test_it_flags_a_publish_timeout_as_outcome_unknown(fake_http: FakeHttp) -> None:
    fake_http.fail(timeout=True)

    with pytest.raises(PlatformError) as caught:
        client.publish_container(access_token="t", ig_user_id="1", container_id="c")

    assert caught.value.outcome_unknown and caught.value.timeout


def test_it_fetches_the_permalink(fake_http: FakeHttp) -> None:
    fake_http.reply(
        200,
        {
            "id": "m-1",
            "permalink": "https://www.instagram.com/reel/abc/",
            "media_type": "VIDEO",
            "media_product_type": "REELS",
        },
    )

    media = client.get_media(access_token="t", media_id="m-1")

    call = fake_http.last
    assert (call.method, call.url) == ("GET", f"{V}/m-1")
    assert call.params == {"fields": "permalink,media_type,media_product_type", "access_token": "t"}
    assert media == MediaInfo(
        id="m-1",
        permalink="https://www.instagram.com/reel/abc/",
        media_type="VIDEO",
        media_product_type="REELS",
    )


def test_it_reads_the_publishing_limit(fake_http: FakeHttp) -> None:
    fake_http.reply(
        200,
        {"data": [{"quota_usage": 3, "config": {"quota_total": 50, "quota_duration": 86400}}]},
    )

    limit = client.get_publishing_limit(access_token="t", ig_user_id="17841")

    call = fake_http.last
    assert (call.method, call.url) == ("GET", f"{V}/17841/content_publishing_limit")
    assert call.params == {"fields": "quota_usage,config", "access_token": "t"}
    assert limit == PublishingLimit(quota_usage=3, quota_total=50, quota_duration=86400)
    assert limit.remaining == 47


def test_it_raises_a_graph_error_from_any_call(fake_http: FakeHttp) -> None:
    fake_http.reply(400, _error(190, 460))

    with pytest.raises(PlatformError) as caught:
        client.get_me(access_token="t")

    assert caught.value.auth_reason is AuthReason.PASSWORD_CHANGED
    assert caught.value.http_status == 400
