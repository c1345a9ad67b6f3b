"""Fault injection: preset errors, lost responses after the side effect, latency, counters."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client

from apps.emulator import faults
from tests.emulator.conftest import (
    GRAPH,
    TT,
    FileServer,
    bearer,
    control,
    instagram_token,
    tiktok_tokens,
)


def _init(client: Client, token: str) -> object:
    return client.post(
        TT + "/v2/post/publish/video/init/",
        data={
            "post_info": {"privacy_level": "SELF_ONLY"},
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": 1000,
                "chunk_size": 1000,
                "total_chunk_count": 1,
            },
        },
        content_type="application/json",
        headers=bearer(token),
    )


def test_a_preset_error_replaces_the_response(api: Client) -> None:
    token = tiktok_tokens(api)["access_token"]
    control(
        api, "post", "/faults", {"endpoint": "tiktok.video_init", "error": "rate_limit_exceeded"}
    )
    response = _init(api, token)
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == "rate_limit_exceeded"  # type: ignore[attr-defined]
    assert control(api, "get", "/state")["publishes"] == []


def test_a_lost_response_still_has_the_side_effect(api: Client) -> None:
    token = tiktok_tokens(api)["access_token"]
    control(
        api, "post", "/faults", {"endpoint": "tiktok.video_init", "lost_response": True, "times": 1}
    )
    lost = _init(api, token)
    assert lost.status_code == 504  # type: ignore[attr-defined]
    assert len(control(api, "get", "/state")["publishes"]) == 1
    assert _init(api, token).status_code == 200  # type: ignore[attr-defined]


def test_a_lost_media_publish_response_posts_exactly_once(
    api: Client, video: Callable[..., bytes], file_server: FileServer
) -> None:
    token = instagram_token(api)
    url = file_server.put("v.mp4", video())
    container_id = api.post(
        f"{GRAPH}/me/media", {"media_type": "REELS", "video_url": url, "access_token": token}
    ).json()["id"]
    control(api, "post", "/clock", {"seconds": 11})
    control(
        api,
        "post",
        "/faults",
        {
            "endpoint": "instagram.media_publish",
            "error": "transient",
            "lost_response": True,
            "times": 1,
        },
    )
    publish = f"{GRAPH}/me/media_publish?creation_id={container_id}&access_token={token}"
    lost = api.post(publish)
    assert lost.status_code == 500 and lost.json()["error"]["code"] == 2
    retry = api.post(publish)
    assert retry.status_code == 400  # already published; no second post
    assert len(control(api, "get", "/ledger?platform=instagram")) == 1


def test_latency_is_slept(api: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(faults, "sleep", slept.append)
    token = tiktok_tokens(api)["access_token"]
    control(api, "post", "/faults", {"endpoint": "tiktok.user_info", "latency_ms": 2500})
    response = api.get(TT + "/v2/user/info/?fields=open_id", headers=bearer(token))
    assert response.status_code == 200 and slept == [2.5]


def test_timeout_sleeps_then_answers_504(api: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(faults, "sleep", slept.append)
    control(api, "post", "/faults", {"endpoint": "tiktok.token", "error": "timeout"})
    response = api.post(TT + "/v2/oauth/token/", {"client_key": settings.TIKTOK_CLIENT_KEY})
    assert response.status_code == 504 and slept == [30.0]


def test_rate_zero_never_fires_and_times_counts_down(api: Client) -> None:
    control(
        api, "post", "/faults", {"endpoint": "tiktok.token", "error": "server_error", "rate": 0}
    )
    response = api.post(TT + "/v2/oauth/token/", {})
    assert response.json()["error"] == "invalid_request"
    control(api, "delete", "/faults")
    control(
        api, "post", "/faults", {"endpoint": "tiktok.token", "error": "server_error", "times": 2}
    )
    codes = [api.post(TT + "/v2/oauth/token/", {}).status_code for _ in range(3)]
    assert codes == [500, 500, 400]
    [rule] = control(api, "get", "/faults")["rules"]
    assert rule["hits"] == 2 and rule["remaining"] == 0


def test_graph_presets_and_custom_bodies(api: Client) -> None:
    token = instagram_token(api)
    control(api, "post", "/faults", {"endpoint": "instagram.me", "error": "throttled", "times": 1})
    throttled = api.get(GRAPH + "/me", {"access_token": token})
    assert throttled.json()["error"]["code"] == 4 and throttled.json()["error"]["is_transient"]
    control(
        api,
        "post",
        "/faults",
        {"endpoint": "instagram.me", "http_status": 418, "body": {"teapot": True}, "times": 1},
    )
    custom = api.get(GRAPH + "/me", {"access_token": token})
    assert custom.status_code == 418 and custom.json() == {"teapot": True}


def test_unknown_endpoints_and_errors_are_refused(api: Client) -> None:
    bad = api.post(
        "/_emulator/control/api/faults", {"endpoint": "nope"}, content_type="application/json"
    )
    assert bad.status_code == 400
    bad = api.post(
        "/_emulator/control/api/faults",
        {"endpoint": "tiktok.token", "error": "throttled"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    listing = control(api, "get", "/faults")
    assert "rate_limit_exceeded" in listing["endpoints"]["tiktok.video_init"]
