"""TikTok client: the exact request each function sends and the typed value it parses."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from apps.platforms.errors import AuthReason, Category, PlatformError
from apps.platforms.tiktok import client
from apps.platforms.tiktok.types import PostInfo
from tests.platforms.fakes import FakeHttp, tiktok_err, tiktok_ok

API = "https://api.tiktok.test"
JSON_HEADERS = {"Content-Type": "application/json; charset=UTF-8"}
TOKEN_BODY = {
    "access_token": "act.example-access",
    "expires_in": 7200,
    "open_id": "afd97af1-b87b-48b9-ac98-410aghda5344",
    "refresh_expires_in": 15552000,
    "refresh_token": "rft.example-refresh",
    "scope": "user.info.basic,video.publish",
    "token_type": "Bearer",
}


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _post_info() -> PostInfo:
    return PostInfo(title="caption #tag @user", privacy_level="SELF_ONLY", disable_comment=True)


def _bearer(token: str = "act.tok") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **JSON_HEADERS}


# --- Authorize URL ---------------------------------------------------------------------------


def test_it_builds_the_authorize_url() -> None:
    url = client.authorize_url(
        redirect_uri="https://app.test/oauth/callback/tt/", state="st-1", code_challenge="c" * 64
    )

    assert url.startswith("https://auth.tiktok.test/v2/auth/authorize/?")
    assert _query(url) == {
        "client_key": ["ck-test"],
        "scope": ["user.info.basic,user.info.profile,video.publish,video.list"],
        "response_type": ["code"],
        "redirect_uri": ["https://app.test/oauth/callback/tt/"],
        "state": ["st-1"],
        "code_challenge": ["c" * 64],
        "code_challenge_method": ["S256"],
    }


def test_it_refuses_to_build_an_authorize_url_without_a_pkce_challenge() -> None:
    # PLATFORMS §1.2: TikTok answers errCode=10007 to a request without one.
    with pytest.raises(ValueError, match="code_challenge"):
        client.authorize_url(redirect_uri="https://app.test/cb/", state="s", code_challenge="")


def test_it_adds_a_hex_pkce_challenge_and_forced_consent_when_asked() -> None:
    verifier = client.pkce_verifier()
    challenge = client.pkce_challenge(verifier=verifier)

    url = client.authorize_url(
        redirect_uri="https://app.test/cb/",
        state="s",
        scopes=["user.info.basic"],
        code_challenge=challenge,
        disable_auto_auth=True,
    )

    query = _query(url)
    assert challenge == hashlib.sha256(verifier.encode()).hexdigest()
    assert query["code_challenge"] == [challenge]
    assert query["code_challenge_method"] == ["S256"]
    assert query["disable_auto_auth"] == ["1"]
    assert query["scope"] == ["user.info.basic"]
    assert 43 <= len(verifier) <= 128


def test_it_reads_the_base_url_at_call_time(settings: Any) -> None:
    settings.PLATFORM_BASE_URLS = {**settings.PLATFORM_BASE_URLS, "tiktok_auth": "http://emu:8000"}

    url = client.authorize_url(redirect_uri="https://app.test/cb/", state="s", code_challenge="c")

    assert url.startswith("http://emu:8000/v2/auth/authorize/?")


# --- Tokens ----------------------------------------------------------------------------------


def test_it_exchanges_a_code_for_tokens(fake_http: FakeHttp) -> None:
    fake_http.reply(200, TOKEN_BODY)

    tokens = client.exchange_code(code="c0de", redirect_uri="https://app.test/cb/")

    call = fake_http.last
    assert (call.method, call.url) == ("POST", f"{API}/v2/oauth/token/")
    assert call.data == {
        "client_key": "ck-test",
        "client_secret": "cs-test",
        "code": "c0de",
        "grant_type": "authorization_code",
        "redirect_uri": "https://app.test/cb/",
    }
    assert tokens.access_token == "act.example-access"
    assert tokens.refresh_token == "rft.example-refresh"
    assert (tokens.expires_in, tokens.refresh_expires_in) == (7200, 15552000)
    assert tokens.account_id == "afd97af1-b87b-48b9-ac98-410aghda5344"
    assert tokens.scopes == frozenset({"user.info.basic", "video.publish"})
    assert tokens.missing_scopes(client.PUBLISH_SCOPES) == frozenset()


def test_it_sends_the_code_verifier_when_pkce_is_used(fake_http: FakeHttp) -> None:
    fake_http.reply(200, TOKEN_BODY)

    client.exchange_code(code="c", redirect_uri="https://app.test/cb/", code_verifier="v" * 50)

    assert fake_http.last.data["code_verifier"] == "v" * 50


def test_it_reports_scopes_the_user_unticked(fake_http: FakeHttp) -> None:
    fake_http.reply(200, {**TOKEN_BODY, "scope": "user.info.basic"})

    tokens = client.exchange_code(code="c", redirect_uri="https://app.test/cb/")

    assert tokens.missing_scopes(client.PUBLISH_SCOPES) == frozenset({"video.publish"})


def test_it_refreshes_and_returns_the_rotated_refresh_token(fake_http: FakeHttp) -> None:
    fake_http.reply(200, {**TOKEN_BODY, "refresh_token": "rft.rotated", "expires_in": 86400})

    tokens = client.refresh_tokens(refresh_token="rft.old")

    assert fake_http.last.url == f"{API}/v2/oauth/token/"
    assert fake_http.last.data == {
        "client_key": "ck-test",
        "client_secret": "cs-test",
        "grant_type": "refresh_token",
        "refresh_token": "rft.old",
    }
    assert tokens.refresh_token == "rft.rotated"
    assert tokens.expires_in == 86400  # whatever TikTok says, never a hardcoded lifetime


def test_it_treats_invalid_grant_with_http_200_as_dead_authorization(fake_http: FakeHttp) -> None:
    fake_http.reply(200, {"error": "invalid_grant", "error_description": "x", "log_id": "L9"})

    with pytest.raises(PlatformError) as caught:
        client.refresh_tokens(refresh_token="rft.old")

    assert caught.value.category is Category.AUTH
    assert caught.value.auth_reason is AuthReason.EXPIRED
    assert caught.value.code == "invalid_grant"
    assert caught.value.log_id == "L9"


def test_it_keeps_tokens_out_of_repr(fake_http: FakeHttp) -> None:
    fake_http.reply(200, TOKEN_BODY)

    tokens = client.exchange_code(code="c", redirect_uri="https://app.test/cb/")

    assert "act." not in repr(tokens)
    assert "rft." not in repr(tokens)


@pytest.mark.parametrize("body", [None, {}])
def test_it_revokes_a_token(fake_http: FakeHttp, body: dict[str, Any] | None) -> None:
    fake_http.reply(200, body)

    client.revoke_token(access_token="act.tok")

    assert (fake_http.last.method, fake_http.last.url) == ("POST", f"{API}/v2/oauth/revoke/")
    assert fake_http.last.data == {
        "client_key": "ck-test",
        "client_secret": "cs-test",
        "token": "act.tok",
    }


# --- User info and video list ----------------------------------------------------------------


def test_it_fetches_user_info(fake_http: FakeHttp) -> None:
    fake_http.reply(
        200,
        tiktok_ok(
            {"user": {"open_id": "o1", "union_id": "u1", "display_name": "Ann", "username": "ann"}}
        ),
    )

    user = client.get_user_info(access_token="act.tok")

    call = fake_http.last
    assert (call.method, call.url) == ("GET", f"{API}/v2/user/info/")
    assert call.params == {"fields": "open_id,union_id,avatar_url,display_name,username"}
    assert call.headers == {"Authorization": "Bearer act.tok"}
    assert user == client.TikTokUser(
        open_id="o1", union_id="u1", display_name="Ann", username="ann"
    )


def test_it_reports_a_missing_scope_on_user_info(fake_http: FakeHttp) -> None:
    fake_http.reply(400, tiktok_err("scope_permission_missed"))

    with pytest.raises(PlatformError) as caught:
        client.get_user_info(access_token="act.tok")

    assert caught.value.auth_reason is AuthReason.SCOPE_MISSING
    assert caught.value.http_status == 400


def test_it_lists_videos(fake_http: FakeHttp) -> None:
    fake_http.reply(
        200,
        tiktok_ok(
            {
                "videos": [{"id": "7300", "title": "hi", "create_time": 1700000000}],
                "cursor": 1699999999000,
                "has_more": True,
            }
        ),
    )

    page = client.list_videos(access_token="act.tok", cursor=1700000000000, max_count=50)

    call = fake_http.last
    assert (call.method, call.url) == ("POST", f"{API}/v2/video/list/")
    assert call.params == {"fields": client.VIDEO_FIELDS}
    assert call.json == {"max_count": 20, "cursor": 1700000000000}
    assert call.headers == _bearer()
    assert page.videos == (client.TikTokVideo(id="7300", title="hi", create_time=1700000000),)
    assert (page.cursor, page.has_more) == (1699999999000, True)


# --- Content Posting -------------------------------------------------------------------------

CREATOR = {
    "creator_avatar_url": "https://p.test/a.jpg",
    "creator_username": "tiktok",
    "creator_nickname": "TikTok Official",
    "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    "comment_disabled": False,
    "duet_disabled": False,
    "stitch_disabled": True,
    "max_video_post_duration_sec": 300,
}


def test_it_queries_creator_info(fake_http: FakeHttp) -> None:
    fake_http.reply(200, tiktok_ok(CREATOR))

    info = client.query_creator_info(access_token="act.tok")

    call = fake_http.last
    assert (call.method, call.url) == ("POST", f"{API}/v2/post/publish/creator_info/query/")
    assert call.headers == _bearer()
    assert call.json is None
    assert info.privacy_level_options == (
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    )
    assert (info.username, info.nickname, info.max_video_post_duration_sec) == (
        "tiktok",
        "TikTok Official",
        300,
    )
    assert info.stitch_disabled is True


def test_it_raises_a_posting_cap_that_arrives_with_http_200(fake_http: FakeHttp) -> None:
    fake_http.reply(200, tiktok_err("spam_risk_too_many_posts"))

    with pytest.raises(PlatformError) as caught:
        client.query_creator_info(access_token="act.tok")

    assert caught.value.category is Category.QUOTA
    assert caught.value.http_status == 200


def test_it_inits_a_file_upload_of_up_to_64_mb_as_one_chunk(fake_http: FakeHttp) -> None:
    fake_http.reply(
        200,
        tiktok_ok(
            {"publish_id": "v_pub_file~v2-1.1", "upload_url": "https://up.test/video/?upload_id=1"}
        ),
    )

    init = client.init_file_post(
        access_token="act.tok", post_info=_post_info(), video_size=50_000_123
    )

    call = fake_http.last
    assert (call.method, call.url) == ("POST", f"{API}/v2/post/publish/video/init/")
    assert call.headers == _bearer()
    assert call.json == {
        "post_info": {
            "title": "caption #tag @user",
            "privacy_level": "SELF_ONLY",
            "disable_duet": False,
            "disable_comment": True,
            "disable_stitch": False,
            "brand_content_toggle": False,
            "brand_organic_toggle": False,
            "is_aigc": False,
        },
        "source_info": {
            "source": "FILE_UPLOAD",
            # §1.6(d) "Chunking in practice": ≤64,000,000 bytes go whole.
            "video_size": 50_000_123,
            "chunk_size": 50_000_123,
            "total_chunk_count": 1,
        },
    }
    assert init.publish_id == "v_pub_file~v2-1.1"
    assert init.upload_url == "https://up.test/video/?upload_id=1"
    assert init.plan is not None and init.plan.total_chunk_count == 1


def test_it_inits_a_file_over_64_mb_in_chunks(fake_http: FakeHttp) -> None:
    fake_http.reply(200, tiktok_ok({"publish_id": "p", "upload_url": "https://up.test/v"}))

    init = client.init_file_post(
        access_token="act.tok", post_info=_post_info(), video_size=64_000_001
    )

    assert fake_http.last.json["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": 64_000_001,
        "chunk_size": 10_000_000,
        "total_chunk_count": 6,
    }
    assert init.plan is not None and init.plan.chunks[-1].size == 14_000_001


@pytest.mark.parametrize("code", ["invalid_params", "invalid_param"])
def test_it_names_the_chunk_plan_when_init_refuses_the_parameters(
    fake_http: FakeHttp, code: str
) -> None:
    fake_http.reply(400, tiktok_err(code, "The chunk size is invalid"))

    with pytest.raises(PlatformError) as caught:
        client.init_file_post(
            access_token="act.tok", post_info=_post_info(), video_size=100_000_000
        )

    error = caught.value
    assert (error.code, error.category, error.http_status) == (code, Category.PERMANENT, 400)
    assert error.log_id == "log-2"
    assert "The chunk size is invalid" in error.message
    assert "100,000,000-byte video in 10 chunks of 10,000,000 bytes" in error.message
    assert "video_size=100000000, chunk_size=10000000, total_chunk_count=10" in error.message
    assert "several chunks" in error.message


def test_it_names_a_single_chunk_plan_too(fake_http: FakeHttp) -> None:
    fake_http.reply(400, tiktok_err("invalid_param", "title too long"))

    with pytest.raises(PlatformError) as caught:
        client.init_file_post(access_token="act.tok", post_info=_post_info(), video_size=123)

    assert "123-byte video as one chunk" in caught.value.message
    assert "several chunks" not in caught.value.message


def test_it_leaves_other_init_refusals_as_they_are(fake_http: FakeHttp) -> None:
    fake_http.reply(403, tiktok_err("privacy_level_option_mismatch"))

    with pytest.raises(PlatformError) as caught:
        client.init_file_post(access_token="act.tok", post_info=_post_info(), video_size=123)

    assert caught.value.code == "privacy_level_option_mismatch"
    assert "chunk" not in caught.value.message


def test_it_inits_a_pull_from_url_direct_post(fake_http: FakeHttp) -> None:
    fake_http.reply(200, tiktok_ok({"publish_id": "v_pub_url~1"}))
    info = PostInfo(title="t", privacy_level="PUBLIC_TO_EVERYONE", video_cover_timestamp_ms=1000)

    init = client.init_url_post(
        access_token="act.tok", post_info=info, video_url="https://media.test/v.mp4"
    )

    assert fake_http.last.json["source_info"] == {
        "source": "PULL_FROM_URL",
        "video_url": "https://media.test/v.mp4",
    }
    assert fake_http.last.json["post_info"]["video_cover_timestamp_ms"] == 1000
    assert init == client.PublishInit(publish_id="v_pub_url~1")


def test_it_flags_an_init_timeout_as_outcome_unknown(fake_http: FakeHttp) -> None:
    fake_http.fail(timeout=True)

    with pytest.raises(PlatformError) as caught:
        client.init_url_post(
            access_token="act.tok", post_info=_post_info(), video_url="https://m.test/v.mp4"
        )

    error = caught.value
    assert (error.category, error.timeout, error.outcome_unknown) == (
        Category.TRANSIENT,
        True,
        True,
    )
    assert error.code == "timeout"


def test_it_fetches_a_completed_status(fake_http: FakeHttp) -> None:
    fake_http.reply(
        200,
        tiktok_ok(
            {
                "status": "PUBLISH_COMPLETE",
                "publicaly_available_post_id": [7301234567890123456],
                "uploaded_bytes": 50_000_123,
            }
        ),
    )

    status = client.fetch_status(access_token="act.tok", publish_id="v_pub_file~1")

    call = fake_http.last
    assert (call.method, call.url) == ("POST", f"{API}/v2/post/publish/status/fetch/")
    assert call.json == {"publish_id": "v_pub_file~1"}
    assert call.headers == _bearer()
    assert status.public_post_ids == ("7301234567890123456",)
    assert status.is_final and status.error is None
    assert status.uploaded_bytes == 50_000_123


def test_it_maps_a_failed_status_through_the_error_table(fake_http: FakeHttp) -> None:
    fake_http.reply(
        200,
        tiktok_ok(
            {
                "status": "FAILED",
                "fail_reason": "picture_size_check_failed",
                "publicaly_available_post_id": [],
            }
        ),
    )

    status = client.fetch_status(access_token="act.tok", publish_id="p")

    assert status.error is not None
    assert (status.error.category, status.error.code) == (
        Category.CONTENT,
        "picture_size_check_failed",
    )


def test_it_cancels_a_publish(fake_http: FakeHttp) -> None:
    fake_http.reply(200, tiktok_ok({}))

    client.cancel_publish(access_token="act.tok", publish_id="p1")

    call = fake_http.last
    assert (call.method, call.url, call.json) == (
        "POST",
        f"{API}/v2/post/publish/cancel/",
        {"publish_id": "p1"},
    )


def test_it_reports_a_cancel_that_came_too_late(fake_http: FakeHttp) -> None:
    fake_http.reply(400, tiktok_err("publish_not_cancellable"))

    with pytest.raises(PlatformError) as caught:
        client.cancel_publish(access_token="act.tok", publish_id="p1")

    assert caught.value.category is Category.PERMANENT


def test_it_keeps_a_token_echoed_by_the_platform_out_of_the_error(fake_http: FakeHttp) -> None:
    fake_http.reply(401, tiktok_err("access_token_invalid", "token act.SECRETSECRET is bad"))

    with pytest.raises(PlatformError) as caught:
        client.get_user_info(access_token="act.SECRETSECRET")

    error = caught.value
    assert "SECRETSECRET" not in str(error)
    assert "SECRETSECRET" not in error.detail
    assert "SECRETSECRET" not in repr(error)


def test_it_treats_a_success_without_the_expected_data_as_unexpected(fake_http: FakeHttp) -> None:
    fake_http.reply(200, tiktok_ok({}))

    with pytest.raises(PlatformError) as caught:
        client.init_url_post(
            access_token="act.tok", post_info=_post_info(), video_url="https://m.test/v.mp4"
        )

    assert caught.value.code == "unexpected_response"
    assert caught.value.outcome_unknown is True
