"""TikTok Content Posting in the sandbox: creator info, init, chunked upload, status, caps."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.emulator.conftest import (
    TT,
    FileServer,
    Outbox,
    bearer,
    control,
    tiktok_tokens,
)

INIT = TT + "/v2/post/publish/video/init/"
STATUS = TT + "/v2/post/publish/status/fetch/"


def _post(client: Client, url: str, token: str, body: Any = None) -> Any:
    return client.post(url, data=body or {}, content_type="application/json", headers=bearer(token))


def _init_file(client: Client, token: str, size: int, chunk: int | None = None, **post: Any) -> Any:
    chunk = chunk or size
    post_info = {"title": "hello #sandbox", "privacy_level": "SELF_ONLY", **post}
    return _post(
        client,
        INIT,
        token,
        {
            "post_info": post_info,
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": size,
                "chunk_size": chunk,
                "total_chunk_count": max(1, size // chunk),
            },
        },
    )


def _put(
    client: Client, upload_url: str, data: bytes, first: int, total: int, **headers: str
) -> Any:
    upload_path = upload_url.removeprefix("http://testserver")
    hdrs = {"Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}", **headers}
    return client.put(upload_path, data=data, content_type="video/mp4", headers=hdrs)


def _status(client: Client, token: str, publish_id: str) -> dict[str, Any]:
    response = _post(client, STATUS, token, {"publish_id": publish_id})
    assert response.status_code == 200, response.content
    return response.json()["data"]


def _upload_and_process(client: Client, token: str, data: bytes, **post: Any) -> dict[str, Any]:
    init = _init_file(client, token, len(data), **post).json()["data"]
    assert _put(client, init["upload_url"], data, 0, len(data)).status_code == 201
    control(client, "post", "/clock", {"seconds": 11})
    return _status(client, token, init["publish_id"])


@pytest.fixture
def token(api: Client) -> str:
    return tiktok_tokens(api)["access_token"]


def test_creator_info_for_a_public_creator(api: Client, token: str) -> None:
    response = _post(api, TT + "/v2/post/publish/creator_info/query/", token)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["creator_username"] == "sbx.creator"
    assert data["privacy_level_options"] == [
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    ]
    assert data["max_video_post_duration_sec"] == 300
    assert response.json()["error"]["code"] == "ok"


def test_creator_info_for_private_and_short_creators(api: Client) -> None:
    private = tiktok_tokens(api, "tt-private")["access_token"]
    data = _post(api, TT + "/v2/post/publish/creator_info/query/", private).json()["data"]
    assert data["privacy_level_options"] == [
        "FOLLOWER_OF_CREATOR",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    ]
    short = tiktok_tokens(api, "tt-short")["access_token"]
    data = _post(api, TT + "/v2/post/publish/creator_info/query/", short).json()["data"]
    assert data["max_video_post_duration_sec"] == 60


def test_creator_info_needs_video_publish(api: Client) -> None:
    token = tiktok_tokens(api, scopes="user.info.basic")["access_token"]
    response = _post(api, TT + "/v2/post/publish/creator_info/query/", token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "scope_not_authorized"


def test_creator_info_reports_bans_and_caps_with_http_200(api: Client, token: str) -> None:
    control(api, "post", "/accounts/tt-public/ban_posting")
    response = _post(api, TT + "/v2/post/publish/creator_info/query/", token)
    assert response.status_code == 200
    assert response.json()["error"]["code"] == "spam_risk_user_banned_from_posting"
    control(api, "post", "/accounts/tt-public/unban_posting")
    control(api, "post", "/accounts/tt-public/exhaust_quota")
    response = _post(api, TT + "/v2/post/publish/creator_info/query/", token)
    assert response.json()["error"]["code"] == "spam_risk_too_many_posts"


def test_a_single_chunk_upload_publishes_after_processing(
    api: Client, token: str, video: Callable[..., bytes], outbox: Outbox
) -> None:
    data = video()
    init = _init_file(api, token, len(data), privacy_level="PUBLIC_TO_EVERYONE")
    assert init.status_code == 200
    body = init.json()["data"]
    assert body["publish_id"].startswith("v_pub_file~v2-1.")
    assert body["upload_url"].startswith("http://testserver/_emulator/tiktok-upload/video/?")
    assert len(body["upload_url"]) <= 256
    done = _put(api, body["upload_url"], data, 0, len(data))
    assert done.status_code == 201
    assert done["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    assert _status(api, token, body["publish_id"])["status"] == "PROCESSING_UPLOAD"
    control(api, "post", "/clock", {"seconds": 11})
    status = _status(api, token, body["publish_id"])
    assert status["status"] == "PUBLISH_COMPLETE"
    assert status["uploaded_bytes"] == len(data)
    assert status["publicaly_available_post_id"] == []  # moderation still running
    control(api, "post", "/clock", {"seconds": 30})
    status = _status(api, token, body["publish_id"])
    [post_id] = status["publicaly_available_post_id"]
    ledger = control(api, "get", "/ledger?platform=tiktok")
    assert [(e["source_ref"], e["post_id"]) for e in ledger] == [(body["publish_id"], str(post_id))]
    assert ledger[0]["caption"] == "hello #sandbox"
    assert any(b'"post.publish.complete"' in s.data for s in outbox.sent)


def test_self_only_posts_never_get_a_public_id(
    api: Client, token: str, video: Callable[..., bytes]
) -> None:
    _upload_and_process(api, token, video())
    control(api, "post", "/clock", {"seconds": 3600})
    [entry] = control(api, "get", "/ledger")
    status = _status(api, token, entry["source_ref"])
    assert status["status"] == "PUBLISH_COMPLETE" and status["publicaly_available_post_id"] == []


def test_chunked_upload_answers_206_then_201(api: Client, token: str) -> None:
    size, chunk = 10_000_123, 5_000_000
    body = _init_file(api, token, size, chunk).json()["data"]
    blob = b"\0" * size
    first = _put(api, body["upload_url"], blob[:chunk], 0, size)
    assert first.status_code == 206
    assert first["Content-Range"] == f"bytes 0-{chunk - 1}/{size}"
    # Repeating the first chunk does not continue the upload: 416.
    assert _put(api, body["upload_url"], blob[:chunk], 0, size).status_code == 416
    last = _put(api, body["upload_url"], blob[chunk:], chunk, size)
    assert last.status_code == 201
    control(api, "post", "/clock", {"seconds": 11})
    status = _status(api, token, body["publish_id"])
    assert status["status"] == "FAILED" and status["fail_reason"] == "file_format_check_failed"


def test_upload_rejects_bad_headers_with_400(api: Client, token: str) -> None:
    body = _init_file(api, token, 1000).json()["data"]
    url = body["upload_url"].removeprefix("http://testserver")
    blob = b"x" * 1000
    no_range = api.put(url, data=blob, content_type="video/mp4")
    assert no_range.status_code == 400
    wrong_type = api.put(
        url, data=blob, content_type="text/plain", headers={"Content-Range": "bytes 0-999/1000"}
    )
    assert wrong_type.status_code == 400
    wrong_total = _put(api, body["upload_url"], blob, 0, 999)
    assert wrong_total.status_code == 400
    short = api.put(
        url,
        data=blob[:500],
        content_type="video/mp4",
        headers={"Content-Range": "bytes 0-999/1000"},
    )
    assert short.status_code == 400


def test_upload_url_expires_after_an_hour_with_403(api: Client, token: str) -> None:
    body = _init_file(api, token, 1000).json()["data"]
    control(api, "post", "/clock", {"seconds": 3601})
    assert _put(api, body["upload_url"], b"x" * 1000, 0, 1000).status_code == 403


def test_upload_to_an_unknown_task_is_404(api: Client) -> None:
    response = api.put(
        "/_emulator/tiktok-upload/video/?upload_id=999&upload_token=x",
        data=b"x",
        content_type="video/mp4",
        headers={"Content-Range": "bytes 0-0/1"},
    )
    assert response.status_code == 404


def test_init_validates_chunk_arithmetic(api: Client, token: str) -> None:
    bad = [
        (10_000_000, 4_000_000),  # chunk under 5 MB for a big file
        (200_000_000, 100_000_000),  # chunk over 64 MB
        (1000, 500),  # small file must be one chunk
        (100_000_000, 64_000_000),  # over 64 MB must be chunked, though floor() gives 1
    ]
    for size, chunk in bad:
        response = _init_file(api, token, size, chunk)
        assert response.status_code == 400, (size, chunk)
        assert response.json()["error"]["code"] == "invalid_param"


@pytest.mark.parametrize(
    ("name", "kwargs", "account", "reason"),
    [
        (
            "long25",
            {"seconds": 61, "fps": 25, "width": 360, "height": 360, "audio": False},
            "tt-short",
            "duration_check_failed",
        ),
        ("slow", {"fps": 15}, "tt-public", "frame_rate_check_failed"),
        ("tiny", {"width": 320, "height": 240}, "tt-public", "picture_size_check_failed"),
        ("mpeg4", {"codec": "mpeg4", "audio": False}, "tt-public", "file_format_check_failed"),
    ],
)
def test_media_checks_fail_with_tiktok_reasons(
    api: Client,
    video: Callable[..., bytes],
    name: str,
    kwargs: dict[str, Any],
    account: str,
    reason: str,
) -> None:
    token = tiktok_tokens(api, account)["access_token"]
    status = _upload_and_process(api, token, video(name, **kwargs))
    assert status["status"] == "FAILED"
    assert status["fail_reason"] == reason
    assert control(api, "get", "/ledger") == []


def test_webm_passes_tiktok(api: Client, token: str, video: Callable[..., bytes]) -> None:
    data = video("webm", codec="libvpx", container="webm", audio=False)
    init = _init_file(api, token, len(data)).json()["data"]
    api.put(
        init["upload_url"].removeprefix("http://testserver"),
        data=data,
        content_type="video/webm",
        headers={"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"},
    )
    control(api, "post", "/clock", {"seconds": 11})
    assert _status(api, token, init["publish_id"])["status"] == "PUBLISH_COMPLETE"


def test_init_refuses_a_privacy_level_not_offered(api: Client) -> None:
    token = tiktok_tokens(api, "tt-private")["access_token"]
    response = _init_file(api, token, 1000, privacy_level="PUBLIC_TO_EVERYONE")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "privacy_level_option_mismatch"
    response = _init_file(api, token, 1000, privacy_level="NOPE")
    assert response.json()["error"]["code"] == "invalid_param"


def test_init_refuses_a_title_over_2200_utf16_units(api: Client, token: str) -> None:
    response = _init_file(api, token, 1000, title="😀" * 1101)  # 2202 UTF-16 units
    assert response.json()["error"]["code"] == "invalid_param"


def test_daily_cap_refuses_the_sixteenth_post(api: Client, token: str) -> None:
    for _ in range(15):
        assert _init_file(api, token, 1000).status_code == 200
    response = _init_file(api, token, 1000)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "spam_risk_too_many_posts"
    control(api, "post", "/clock", {"hours": 24.1})
    token = tiktok_tokens(api)["access_token"]  # the old one expired meanwhile
    assert _init_file(api, token, 1000).status_code == 200


def test_banned_and_exhausted_creators_are_refused_with_403(api: Client, token: str) -> None:
    control(api, "post", "/accounts/tt-public/ban_posting")
    response = _init_file(api, token, 1000)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "spam_risk_user_banned_from_posting"


def test_unaudited_clients_post_self_only_to_private_accounts(api: Client) -> None:
    control(api, "post", "/config", {"tiktok_client_audited": False})
    public = tiktok_tokens(api, "tt-public")["access_token"]
    response = _init_file(api, public, 1000)
    assert response.json()["error"]["code"] == "unaudited_client_can_only_post_to_private_accounts"
    private = tiktok_tokens(api, "tt-private")["access_token"]
    assert _init_file(api, private, 1000).status_code == 200


def test_active_creator_cap(api: Client) -> None:
    control(api, "post", "/config", {"tiktok_active_user_cap": 1})
    first = tiktok_tokens(api, "tt-public")["access_token"]
    assert _init_file(api, first, 1000).status_code == 200
    second = tiktok_tokens(api, "tt-short")["access_token"]
    response = _init_file(api, second, 1000)
    assert response.json()["error"]["code"] == "reached_active_user_cap"


def test_pull_from_url_downloads_and_publishes(
    api: Client, token: str, video: Callable[..., bytes], file_server: FileServer
) -> None:
    url = file_server.put("clip.mp4", video())
    response = _post(
        api,
        INIT,
        token,
        {
            "post_info": {"title": "pulled", "privacy_level": "SELF_ONLY"},
            "source_info": {"source": "PULL_FROM_URL", "video_url": url},
        },
    )
    body = response.json()["data"]
    assert body["publish_id"].startswith("v_pub_url~") and "upload_url" not in body
    assert _status(api, token, body["publish_id"])["status"] == "PROCESSING_DOWNLOAD"
    control(api, "post", "/clock", {"seconds": 11})
    status = _status(api, token, body["publish_id"])
    assert status["status"] == "PUBLISH_COMPLETE"
    assert status["downloaded_bytes"] == len(video())


def test_pull_from_url_refuses_redirects(
    api: Client, token: str, video: Callable[..., bytes], file_server: FileServer
) -> None:
    file_server.put("clip.mp4", video())
    url = file_server.base + "/redirect/clip.mp4"
    body = _post(
        api,
        INIT,
        token,
        {
            "post_info": {"privacy_level": "SELF_ONLY"},
            "source_info": {"source": "PULL_FROM_URL", "video_url": url},
        },
    ).json()["data"]
    control(api, "post", "/clock", {"seconds": 11})
    status = _status(api, token, body["publish_id"])
    assert status["status"] == "FAILED" and status["fail_reason"] == "video_pull_failed"


def test_pull_from_url_needs_a_verified_prefix(api: Client, token: str) -> None:
    control(api, "post", "/config", {"tiktok_verified_url_prefixes": ["https://cdn.example/"]})
    response = _post(
        api,
        INIT,
        token,
        {
            "post_info": {"privacy_level": "SELF_ONLY"},
            "source_info": {"source": "PULL_FROM_URL", "video_url": "https://other.example/v.mp4"},
        },
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "url_ownership_unverified"


def test_status_of_someone_elses_publish(api: Client, token: str) -> None:
    publish_id = _init_file(api, token, 1000).json()["data"]["publish_id"]
    other = tiktok_tokens(api, "tt-short")["access_token"]
    response = _post(api, STATUS, other, {"publish_id": publish_id})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "token_not_authorized_for_specified_publish_id"
    response = _post(api, STATUS, token, {"publish_id": "v_pub_file~nope"})
    assert response.json()["error"]["code"] == "invalid_publish_id"


def test_cancel_before_completion_then_not_cancellable(
    api: Client, token: str, video: Callable[..., bytes]
) -> None:
    publish_id = _init_file(api, token, 1000).json()["data"]["publish_id"]
    cancel = _post(api, TT + "/v2/post/publish/cancel/", token, {"publish_id": publish_id})
    assert cancel.json()["error"]["code"] == "ok"
    status = _status(api, token, publish_id)
    assert status["status"] == "FAILED" and status["fail_reason"] == "publish_cancelled"
    again = _post(api, TT + "/v2/post/publish/cancel/", token, {"publish_id": publish_id})
    assert again.json()["error"]["code"] == "publish_not_cancellable"


def test_removing_the_app_fails_in_flight_uploads(api: Client, token: str) -> None:
    publish_id = _init_file(api, token, 1000).json()["data"]["publish_id"]
    control(api, "post", "/accounts/tt-public/remove_app")
    state = control(api, "get", "/state")
    [publish] = [p for p in state["publishes"] if p["publish_id"] == publish_id]
    assert publish["status"] == "FAILED" and publish["fail_reason"] == "auth_removed"


def test_inbox_upload_ends_in_the_inbox(
    api: Client, token: str, video: Callable[..., bytes]
) -> None:
    data = video()
    response = _post(
        api,
        TT + "/v2/post/publish/inbox/video/init/",
        token,
        {
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": len(data),
                "chunk_size": len(data),
                "total_chunk_count": 1,
            }
        },
    )
    body = response.json()["data"]
    assert _put(api, body["upload_url"], data, 0, len(data)).status_code == 201
    control(api, "post", "/clock", {"seconds": 11})
    assert _status(api, token, body["publish_id"])["status"] == "SEND_TO_USER_INBOX"
    assert control(api, "get", "/ledger") == []


def test_video_list_pages_through_published_posts(
    api: Client, token: str, video: Callable[..., bytes]
) -> None:
    for _ in range(3):
        _upload_and_process(api, token, video())
        control(api, "post", "/clock", {"seconds": 5})
    url = TT + "/v2/video/list/?fields=id,title,share_url"
    first = _post(api, url, token, {"max_count": 2}).json()["data"]
    assert len(first["videos"]) == 2 and first["has_more"] is True
    assert first["videos"][0]["share_url"].startswith("http://testserver/_emulator/tiktok/@")
    second = _post(api, url, token, {"max_count": 2, "cursor": first["cursor"]}).json()["data"]
    assert len(second["videos"]) == 1 and second["has_more"] is False
    assert (
        api.get(first["videos"][0]["share_url"].removeprefix("http://testserver")).status_code
        == 200
    )


# --- Posting webhooks (§1.9) ---------------------------------------------------------------------


def _events(outbox: Outbox) -> list[tuple[str, dict[str, Any]]]:
    """(event, content) of every TikTok webhook sent so far, in order."""
    bodies = [json.loads(s.data) for s in outbox.sent]
    return [(b["event"], json.loads(b["content"])) for b in bodies if "event" in b]


def _public_post(api: Client, token: str, data: bytes) -> str:
    init = _init_file(api, token, len(data), privacy_level="PUBLIC_TO_EVERYONE").json()["data"]
    assert _put(api, init["upload_url"], data, 0, len(data)).status_code == 201
    return init["publish_id"]


def test_a_public_post_is_announced_publicly_available_once_after_moderation(
    api: Client, token: str, video: Callable[..., bytes], outbox: Outbox
) -> None:
    publish_id = _public_post(api, token, video())
    control(api, "post", "/clock", {"seconds": 11})
    assert _status(api, token, publish_id)["status"] == "PUBLISH_COMPLETE"
    assert _events(outbox) == [
        ("post.publish.complete", {"publish_id": publish_id, "publish_type": "DIRECT_PUBLISH"})
    ]
    # Published when processing ended (10 s after the upload); moderation takes 30 s more.
    control(api, "post", "/clock", {"seconds": 28})
    _status(api, token, publish_id)
    assert len(_events(outbox)) == 1

    control(api, "post", "/clock", {"seconds": 1})
    [post_id] = _status(api, token, publish_id)["publicaly_available_post_id"]
    _status(api, token, publish_id)
    control(api, "get", "/state")

    [entry] = control(api, "get", "/ledger")
    assert entry["post_id"] == str(post_id)
    assert _events(outbox)[1:] == [
        (
            "post.publish.publicly_available",
            {"publish_id": publish_id, "publish_type": "DIRECT_PUBLISH", "post_id": str(post_id)},
        )
    ]
    assert outbox.sent[-1].headers["TikTok-Signature"].startswith("t=")


def test_a_control_read_settles_moderation_without_a_status_fetch(
    api: Client, token: str, video: Callable[..., bytes], outbox: Outbox
) -> None:
    publish_id = _public_post(api, token, video())
    control(api, "post", "/clock", {"seconds": 60})
    control(api, "get", "/ledger")
    control(api, "get", "/state")
    assert [event for event, _ in _events(outbox)] == [
        "post.publish.complete",
        "post.publish.publicly_available",
    ]
    assert _events(outbox)[1][1]["publish_id"] == publish_id


def test_self_only_posts_are_never_announced_publicly_available(
    api: Client, token: str, video: Callable[..., bytes], outbox: Outbox
) -> None:
    publish_id = (
        _upload_and_process(api, token, video())["status"]
        and (control(api, "get", "/ledger")[0]["source_ref"])
    )
    control(api, "post", "/clock", {"seconds": 3600})
    _status(api, token, publish_id)
    control(api, "get", "/state")
    assert [event for event, _ in _events(outbox)] == ["post.publish.complete"]


def test_inbox_and_cancel_events_carry_their_publish_type(
    api: Client, token: str, video: Callable[..., bytes], outbox: Outbox
) -> None:
    data = video()
    source_info = {
        "source": "FILE_UPLOAD",
        "video_size": len(data),
        "chunk_size": len(data),
        "total_chunk_count": 1,
    }
    inbox = _post(
        api, TT + "/v2/post/publish/inbox/video/init/", token, {"source_info": source_info}
    )
    inbox_id = inbox.json()["data"]["publish_id"]
    cancelled = _post(
        api, TT + "/v2/post/publish/inbox/video/init/", token, {"source_info": source_info}
    )
    cancelled_id = cancelled.json()["data"]["publish_id"]
    _post(api, TT + "/v2/post/publish/cancel/", token, {"publish_id": cancelled_id})
    assert _put(api, inbox.json()["data"]["upload_url"], data, 0, len(data)).status_code == 201
    control(api, "post", "/clock", {"seconds": 3600})
    _status(api, token, inbox_id)
    assert _events(outbox) == [
        (
            "post.publish.failed",
            {
                "publish_id": cancelled_id,
                "publish_type": "INBOX_SHARE",
                "reason": "publish_cancelled",
            },
        ),
        ("post.publish.inbox_delivered", {"publish_id": inbox_id, "publish_type": "INBOX_SHARE"}),
    ]
