"""TikTok client ↔ sandbox, over real HTTP: every client function, success and refusal paths.

Faults injected per endpoint live in test_faults_contract.py; platform-side actions in
test_platform_actions_contract.py.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from typing import Any

import pytest
import requests

from apps.platforms.errors import AuthReason, Category, PlatformError
from apps.platforms.tiktok import client as tt
from apps.platforms.tiktok import upload
from apps.platforms.tiktok.types import PostInfo
from tests.contract.conftest import LARGE_CHUNK_BYTES, MODERATION_S, PROCESSING_S
from tests.contract.helpers import ALL_TT_SCOPES, TT_CALLBACK, query_of

pytestmark = pytest.mark.django_db(transaction=True)

PUBLIC = PostInfo(title="Launch day #sandbox", privacy_level="PUBLIC_TO_EVERYONE")
PRIVATE = PostInfo(title="Just for me", privacy_level="SELF_ONLY")


def raises(call: Any, **kwargs: Any) -> PlatformError:
    with pytest.raises(PlatformError) as info:
        call(**kwargs)
    return info.value


def post_file(token: str, data: bytes, post_info: PostInfo = PUBLIC, **kwargs: Any):
    init = tt.init_file_post(
        access_token=token, post_info=post_info, video_size=len(data), **kwargs
    )
    assert init.upload_url and init.plan
    return init


# --- OAuth (§1.2-§1.4) ----------------------------------------------------------------------


def test_it_follows_authorize_url_through_the_consent_form_to_a_code_it_can_exchange(
    sandbox, receiver
):
    redirect_uri = receiver.url(TT_CALLBACK)
    verifier = tt.pkce_verifier()
    url = tt.authorize_url(
        redirect_uri=redirect_uri,
        state="st-123",
        code_challenge=tt.pkce_challenge(verifier=verifier),
        disable_auto_auth=True,
    )
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    assert page.status_code == 200
    for scope in tt.SCOPES:
        assert scope in page.text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf
    # The user signs in as tt-public and unticks video.list.
    answer = browser.post(
        url,
        data={
            "csrfmiddlewaretoken": csrf.group(1),
            "account": "tt-public",
            "scopes": ["user.info.profile", "video.publish"],
            "decision": "allow",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(redirect_uri + "?")
    callback = query_of(location)
    assert callback["state"] == "st-123"
    assert callback["scopes"].split(",") == [
        "user.info.basic",
        "user.info.profile",
        "video.publish",
    ]
    assert "*" in callback["code"]  # real codes need URL-decoding (§1.3); query_of decoded it

    tokens = tt.exchange_code(
        code=callback["code"], redirect_uri=redirect_uri, code_verifier=verifier
    )
    assert tokens.scopes == {"user.info.basic", "user.info.profile", "video.publish"}
    assert tokens.account_id == sandbox.account("tt-public")["open_id"]
    assert tokens.access_token.startswith("act.")
    assert tokens.refresh_token and tokens.refresh_token.startswith("rft.")
    assert tokens.expires_in == 7200 and tokens.refresh_expires_in == 15_552_000


@pytest.mark.parametrize(
    ("sent_verifier", "accepted"),
    [("right", True), ("wrong", False), ("missing", False), ("base64url", False)],
)
def test_the_code_is_bound_to_the_pkce_verifier(sandbox, receiver, sent_verifier, accepted):
    """PLATFORMS §1.2: TikTok checks hex(SHA-256(verifier)); a code is useless without it."""
    redirect_uri = receiver.url(TT_CALLBACK)
    verifier = tt.pkce_verifier()
    grant = sandbox.authorize(
        "tt-public",
        ("user.info.basic",),
        redirect_uri,
        code_challenge=tt.pkce_challenge(verifier=verifier),
    )
    sent = {
        "right": verifier,
        "wrong": tt.pkce_verifier(),
        "missing": None,
        # the base64url S256 of RFC 7636 is not what TikTok compares against
        "base64url": base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .rstrip(b"=")
        .decode(),
    }[sent_verifier]
    if accepted:
        assert tt.exchange_code(code=grant["code"], redirect_uri=redirect_uri, code_verifier=sent)
        return
    with pytest.raises(PlatformError) as exc:
        tt.exchange_code(code=grant["code"], redirect_uri=redirect_uri, code_verifier=sent)
    assert exc.value.code == "invalid_grant"


def test_the_authorize_page_refuses_a_request_without_a_pkce_challenge(sandbox, receiver):
    """PLATFORMS §1.2: TikTok's own error page (errCode=10007), and no redirect to the app."""
    redirect_uri = receiver.url(TT_CALLBACK)
    url = tt.authorize_url(redirect_uri=redirect_uri, state="st-0", code_challenge="x")
    without = url.replace("&code_challenge=x&code_challenge_method=S256", "")
    assert "code_challenge" not in without
    page = requests.get(without, timeout=10, allow_redirects=False)
    assert page.status_code == 400 and "Location" not in page.headers
    assert 'data-err-code="10007"' in page.text
    assert 'data-error-type="code_challenge"' in page.text
    assert receiver.requests == []
    assert requests.get(url, timeout=10, allow_redirects=False).status_code == 200


def test_it_sees_the_denial_when_the_user_cancels_consent(sandbox, receiver):
    redirect_uri = receiver.url(TT_CALLBACK)
    url = tt.authorize_url(
        redirect_uri=redirect_uri,
        state="st-9",
        code_challenge=tt.pkce_challenge(verifier=tt.pkce_verifier()),
    )
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf
    answer = browser.post(
        url,
        data={"csrfmiddlewaretoken": csrf.group(1), "decision": "deny"},
        allow_redirects=False,
        timeout=10,
    )
    callback = query_of(answer.headers["Location"])
    assert callback["error"] == "access_denied"
    assert callback["state"] == "st-9"


def test_it_refuses_a_code_twice_and_a_code_for_another_redirect_uri(sandbox, receiver):
    redirect_uri = receiver.url(TT_CALLBACK)
    verifier = tt.pkce_verifier()
    challenge = tt.pkce_challenge(verifier=verifier)
    grant = sandbox.authorize("tt-public", ALL_TT_SCOPES, redirect_uri, code_challenge=challenge)
    tt.exchange_code(code=grant["code"], redirect_uri=redirect_uri, code_verifier=verifier)
    reused = raises(
        tt.exchange_code, code=grant["code"], redirect_uri=redirect_uri, code_verifier=verifier
    )
    assert (reused.category, reused.code, reused.auth_reason) == (
        Category.AUTH,
        "invalid_grant",
        AuthReason.EXPIRED,
    )
    assert reused.http_status == 200  # §1.3: invalid_grant may come with 200; we read the body

    grant = sandbox.authorize("tt-public", ALL_TT_SCOPES, redirect_uri, code_challenge=challenge)
    mismatch = raises(
        tt.exchange_code,
        code=grant["code"],
        redirect_uri=redirect_uri + "x/",
        code_verifier=verifier,
    )
    assert mismatch.code == "invalid_grant"


def test_it_rotates_refresh_tokens_and_the_old_one_is_refused(sandbox, connect_tiktok):
    first = connect_tiktok()
    sandbox.advance(hours=1)
    second = tt.refresh_tokens(refresh_token=first.refresh_token)
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token
    assert second.scopes == first.scopes
    # The chain keeps its original deadline: refresh_expires_in is the time left (§1.3).
    assert second.refresh_expires_in <= first.refresh_expires_in - 3600 + 1
    tt.get_user_info(access_token=second.access_token)

    old = raises(tt.refresh_tokens, refresh_token=first.refresh_token)
    assert (old.category, old.code, old.auth_reason) == (
        Category.AUTH,
        "invalid_grant",
        AuthReason.EXPIRED,
    )
    assert old.retryable is False


def test_it_refreshes_after_the_access_token_expires(sandbox, connect_tiktok):
    sandbox.configure(tiktok_access_ttl=600)
    tokens = connect_tiktok()
    assert tokens.expires_in == 600
    sandbox.advance(601)
    expired = raises(tt.get_user_info, access_token=tokens.access_token)
    assert (expired.category, expired.code, expired.auth_reason) == (
        Category.AUTH,
        "access_token_invalid",
        AuthReason.EXPIRED,
    )
    fresh = tt.refresh_tokens(refresh_token=tokens.refresh_token)
    assert tt.get_user_info(access_token=fresh.access_token).open_id == tokens.account_id


def test_it_revokes_the_grant_and_every_token_dies(sandbox, connect_tiktok):
    tokens = connect_tiktok()
    tt.revoke_token(access_token=tokens.access_token)
    dead = raises(tt.get_user_info, access_token=tokens.access_token)
    assert dead.category is Category.AUTH
    refresh = raises(tt.refresh_tokens, refresh_token=tokens.refresh_token)
    assert refresh.code == "invalid_grant"
    tt.revoke_token(access_token=tokens.access_token)  # an unknown/dead token is a no-op {}


# --- Display API (§1.5, §1.7) ---------------------------------------------------------------


def test_it_reads_user_info_and_the_health_probe(sandbox, connect_tiktok):
    tokens = connect_tiktok()
    account = sandbox.account("tt-public")
    user = tt.get_user_info(access_token=tokens.access_token)
    assert user.open_id == account["open_id"] == tokens.account_id
    assert user.union_id == account["union_id"]
    assert user.username == account["username"]
    assert user.display_name == account["display_name"]
    assert requests.get(user.avatar_url, timeout=10).status_code == 200
    probe = tt.get_user_info(access_token=tokens.access_token, fields=tt.PROBE_FIELDS)
    assert probe.open_id == account["open_id"] and probe.username == ""


def test_it_reports_a_missing_scope_on_user_info(sandbox, connect_tiktok):
    tokens = connect_tiktok(scopes=("user.info.basic",))
    tt.get_user_info(access_token=tokens.access_token, fields="open_id,display_name")
    error = raises(tt.get_user_info, access_token=tokens.access_token)  # username: .profile
    assert (error.category, error.code, error.auth_reason) == (
        Category.AUTH,
        "scope_permission_missed",
        AuthReason.SCOPE_MISSING,
    )


def test_it_lists_published_videos_page_by_page(sandbox, connect_tiktok, video_bytes):
    tokens = connect_tiktok()
    for n in range(3):
        init = post_file(tokens.access_token, video_bytes, PostInfo(f"clip {n}", "SELF_ONLY"))
        upload.upload_video(
            upload_url=init.upload_url, source=io.BytesIO(video_bytes), plan=init.plan
        )
        sandbox.advance(PROCESSING_S + 1)  # distinct publish times, newest first
        tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)

    first = tt.list_videos(access_token=tokens.access_token, max_count=2)
    assert [v.title for v in first.videos] == ["clip 2", "clip 1"]
    assert first.has_more and first.cursor
    second = tt.list_videos(access_token=tokens.access_token, cursor=first.cursor, max_count=2)
    assert [v.title for v in second.videos] == ["clip 0"]
    assert not second.has_more
    ledger_ids = {row["post_id"] for row in sandbox.ledger(platform="tiktok")}
    assert {v.id for v in first.videos + second.videos} == ledger_ids
    assert all(v.duration in (3, 4) for v in first.videos)
    assert requests.get(first.videos[0].share_url, timeout=10).status_code == 200

    no_list = connect_tiktok(scopes=("user.info.basic", "video.publish"))
    error = raises(tt.list_videos, access_token=no_list.access_token)
    assert (error.code, error.auth_reason) == ("scope_not_authorized", AuthReason.SCOPE_MISSING)


# --- Content Posting (§1.6) -----------------------------------------------------------------


def test_it_reads_creator_info_for_public_and_private_creators(sandbox, connect_tiktok):
    public = tt.query_creator_info(access_token=connect_tiktok().access_token)
    assert public.username == "sbx.creator"
    assert public.privacy_level_options == (
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    )
    assert public.max_video_post_duration_sec == 300
    private = tt.query_creator_info(access_token=connect_tiktok("tt-private").access_token)
    assert private.privacy_level_options == (
        "FOLLOWER_OF_CREATOR",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    )
    assert private.max_video_post_duration_sec == 180


def test_it_needs_video_publish_for_creator_info(sandbox, connect_tiktok):
    tokens = connect_tiktok(scopes=("user.info.basic", "video.list"))
    error = raises(tt.query_creator_info, access_token=tokens.access_token)
    assert (error.category, error.code, error.auth_reason) == (
        Category.AUTH,
        "scope_not_authorized",
        AuthReason.SCOPE_MISSING,
    )


def test_it_posts_a_file_and_the_status_moves_with_the_clock_to_one_ledger_post(
    sandbox, connect_tiktok, video_bytes, receiver
):
    tokens = connect_tiktok()
    init = post_file(tokens.access_token, video_bytes)
    assert init.publish_id.startswith("v_pub_file~v2-1.")
    assert init.plan.total_chunk_count == 1 and init.plan.chunk_size == len(video_bytes)

    uploading = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert uploading.status == "PROCESSING_UPLOAD" and uploading.uploaded_bytes == 0

    result = upload.upload_video(
        upload_url=init.upload_url, source=io.BytesIO(video_bytes), plan=init.plan
    )
    assert result.complete and result.uploaded_bytes == len(video_bytes)
    processing = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert processing.status == "PROCESSING_UPLOAD" and not processing.is_final
    assert processing.uploaded_bytes == len(video_bytes)

    sandbox.advance(PROCESSING_S)
    done = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert done.status == "PUBLISH_COMPLETE" and done.is_final and done.error is None
    assert done.public_post_ids == ()  # public only after moderation (§1.6(f))
    sandbox.advance(MODERATION_S)
    public = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)

    ledger = sandbox.ledger(platform="tiktok")
    assert len(ledger) == 1
    assert public.public_post_ids == (ledger[0]["post_id"],)
    assert ledger[0]["caption"] == PUBLIC.title
    # Reading the status again never posts twice.
    tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert len(sandbox.ledger(platform="tiktok")) == 1


def test_it_never_gets_a_public_post_id_for_self_only(sandbox, connect_tiktok, video_bytes):
    tokens = connect_tiktok()
    init = post_file(tokens.access_token, video_bytes, PRIVATE)
    upload.upload_video(upload_url=init.upload_url, source=io.BytesIO(video_bytes), plan=init.plan)
    sandbox.advance(PROCESSING_S + MODERATION_S + 60)
    done = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert done.status == "PUBLISH_COMPLETE" and done.public_post_ids == ()


def test_it_uploads_a_large_video_in_two_chunks(sandbox, connect_tiktok, large_video_bytes):
    tokens = connect_tiktok()
    init = post_file(tokens.access_token, large_video_bytes, chunk_size=LARGE_CHUNK_BYTES)
    # Over 64 MB: 32 MB + the remainder (§1.6(d)).
    assert init.plan.total_chunk_count == 2
    result = upload.upload_video(
        upload_url=init.upload_url, source=io.BytesIO(large_video_bytes), plan=init.plan
    )
    assert result.complete
    sandbox.advance(PROCESSING_S)
    done = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert done.status == "PUBLISH_COMPLETE", done
    assert [row["video_bytes"] for row in sandbox.ledger(platform="tiktok")] == [
        len(large_video_bytes)
    ]


def test_it_resumes_from_the_status_uploaded_bytes_after_a_partial_upload(
    sandbox, connect_tiktok, large_video_bytes
):
    tokens = connect_tiktok()
    init = post_file(tokens.access_token, large_video_bytes, chunk_size=LARGE_CHUNK_BYTES)
    first = init.plan.chunk(0)
    # A worker sends the first chunk and dies.
    response = upload.upload_chunk(
        upload_url=init.upload_url,
        data=large_video_bytes[: first.size],
        first=0,
        total=len(large_video_bytes),
    )
    assert response.status == 206
    assert upload.reported_offset(response) == first.size
    status = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert status.uploaded_bytes == first.size
    # The next attempt continues where TikTok stands.
    result = upload.upload_video(
        upload_url=init.upload_url,
        source=io.BytesIO(large_video_bytes),
        plan=init.plan,
        start_offset=status.uploaded_bytes,
    )
    assert result.complete
    sandbox.advance(PROCESSING_S)
    assert tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id).status == (
        "PUBLISH_COMPLETE"
    )
    assert len(sandbox.ledger(platform="tiktok")) == 1


def test_it_resyncs_when_it_restarts_from_zero_but_tiktok_holds_a_chunk(
    sandbox, connect_tiktok, large_video_bytes
):
    tokens = connect_tiktok()
    init = post_file(tokens.access_token, large_video_bytes, chunk_size=LARGE_CHUNK_BYTES)
    upload.upload_chunk(
        upload_url=init.upload_url,
        data=large_video_bytes[:LARGE_CHUNK_BYTES],
        first=0,
        total=len(large_video_bytes),
    )
    # Our side lost track and starts over: the sandbox answers 416 with its true progress.
    result = upload.upload_video(
        upload_url=init.upload_url, source=io.BytesIO(large_video_bytes), plan=init.plan
    )
    assert result.complete
    sandbox.advance(PROCESSING_S)
    tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert [row["video_bytes"] for row in sandbox.ledger(platform="tiktok")] == [
        len(large_video_bytes)
    ]


def test_it_survives_a_lost_chunk_response_with_exactly_one_post(
    sandbox, connect_tiktok, large_video_bytes
):
    tokens = connect_tiktok()
    init = post_file(tokens.access_token, large_video_bytes, chunk_size=LARGE_CHUNK_BYTES)
    # The first chunk lands but its 206 is lost (504); then a 503 on the retry of chunk two.
    sandbox.fault("tiktok.upload", lost_response=True, times=1)
    result = upload.upload_video(
        upload_url=init.upload_url, source=io.BytesIO(large_video_bytes), plan=init.plan
    )
    assert result.complete
    sandbox.advance(PROCESSING_S)
    status = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert status.status == "PUBLISH_COMPLETE"
    assert len(sandbox.ledger(platform="tiktok")) == 1


def test_it_survives_a_lost_final_response_and_checks_the_status(
    sandbox, connect_tiktok, video_bytes
):
    tokens = connect_tiktok()
    init = post_file(tokens.access_token, video_bytes)
    sandbox.fault("tiktok.upload", lost_response=True, times=1)
    result = upload.upload_video(
        upload_url=init.upload_url, source=io.BytesIO(video_bytes), plan=init.plan
    )
    # The retry got 416 "you already sent everything": processing state unknown → check status.
    assert result.uploaded_bytes == len(video_bytes)
    assert not result.complete
    sandbox.advance(PROCESSING_S)
    status = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert status.status == "PUBLISH_COMPLETE"
    assert len(sandbox.ledger(platform="tiktok")) == 1


def test_it_takes_a_200_to_the_last_chunk_as_received_and_the_status_decides(
    sandbox, connect_tiktok, video_bytes
):
    tokens = connect_tiktok()
    init = post_file(tokens.access_token, video_bytes)
    # The sandbox keeps the bytes, then answers 200 where the docs say 201 (§1.6(d)).
    sandbox.fault("tiktok.upload", lost_response=True, http_status=200, times=1)
    result = upload.upload_video(
        upload_url=init.upload_url, source=io.BytesIO(video_bytes), plan=init.plan
    )
    assert result.complete and result.uploaded_bytes == len(video_bytes)
    sandbox.advance(PROCESSING_S)
    status = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert status.status == "PUBLISH_COMPLETE"
    assert len(sandbox.ledger(platform="tiktok")) == 1


def test_it_names_the_chunk_plan_when_tiktok_refuses_a_multi_chunk_init(
    sandbox, connect_tiktok, large_video_bytes
):
    tokens = connect_tiktok()
    # The reported answer to multi-chunk inits (§1.6(d), post-for-me#327).
    sandbox.fault(
        "tiktok.video_init",
        http_status=400,
        body={
            "data": {},
            "error": {
                "code": "invalid_params",
                "message": "The chunk size is invalid",
                "log_id": "202611300000",
            },
        },
        times=1,
    )
    error = raises(
        tt.init_file_post,
        access_token=tokens.access_token,
        post_info=PUBLIC,
        video_size=len(large_video_bytes),
        chunk_size=LARGE_CHUNK_BYTES,
    )
    assert (error.code, error.category) == ("invalid_params", Category.PERMANENT)
    assert "The chunk size is invalid" in error.message
    assert "in 2 chunks of 32,000,000 bytes" in error.message
    assert sandbox.ledger(platform="tiktok") == []


def test_the_sandbox_refuses_one_chunk_over_64_mb(sandbox, connect_tiktok):
    tokens = connect_tiktok()
    response = requests.post(
        sandbox.url("/_emulator/tiktok-api/v2/post/publish/video/init/"),
        json={
            "post_info": {"title": "t", "privacy_level": "SELF_ONLY"},
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": 100_000_000,
                "chunk_size": 64_000_000,
                "total_chunk_count": 1,
            },
        },
        headers={"Authorization": f"Bearer {tokens.access_token}"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_param"


def test_it_retries_a_chunk_after_a_5xx(sandbox, connect_tiktok, video_bytes):
    tokens = connect_tiktok()
    init = post_file(tokens.access_token, video_bytes)
    sandbox.fault("tiktok.upload", error="http_503", times=2)
    result = upload.upload_video(
        upload_url=init.upload_url, source=io.BytesIO(video_bytes), plan=init.plan
    )
    assert result.complete


def test_it_restarts_when_the_upload_url_expired(sandbox, connect_tiktok, video_bytes):
    tokens = connect_tiktok()
    init = post_file(tokens.access_token, video_bytes)
    sandbox.advance(hours=1, seconds=1)  # upload_url lasts 1 h (§1.6(b))
    error = raises(
        upload.upload_video,
        upload_url=init.upload_url,
        source=io.BytesIO(video_bytes),
        plan=init.plan,
    )
    assert (error.category, error.code, error.restart) == (Category.TRANSIENT, "upload_403", True)


def test_it_maps_a_lost_init_response_to_outcome_unknown(sandbox, connect_tiktok, video_bytes):
    tokens = connect_tiktok()
    sandbox.fault("tiktok.video_init", lost_response=True, times=1)
    error = raises(
        tt.init_file_post,
        access_token=tokens.access_token,
        post_info=PUBLIC,
        video_size=len(video_bytes),
    )
    assert error.category is Category.TRANSIENT and error.outcome_unknown
    # The side effect happened: the sandbox holds a task nobody will upload to.
    publishes = sandbox.state()["publishes"]
    assert len(publishes) == 1


def test_it_refuses_a_privacy_level_outside_the_creator_options(
    sandbox, connect_tiktok, video_bytes
):
    tokens = connect_tiktok("tt-private")
    error = raises(
        tt.init_file_post,
        access_token=tokens.access_token,
        post_info=PUBLIC,
        video_size=len(video_bytes),
    )
    assert (error.category, error.code) == (Category.PERMANENT, "privacy_level_option_mismatch")


def test_it_refuses_a_title_over_2200_utf16_units(sandbox, connect_tiktok, video_bytes):
    tokens = connect_tiktok()
    error = raises(
        tt.init_file_post,
        access_token=tokens.access_token,
        post_info=PostInfo(title="😀" * 1101, privacy_level="SELF_ONLY"),  # 2202 units
        video_size=len(video_bytes),
    )
    assert (error.category, error.code) == (Category.PERMANENT, "invalid_param")


def test_it_reports_a_video_over_the_creator_duration_as_content(
    sandbox, connect_tiktok, video_bytes
):
    sandbox.update_account("tt-short", max_video_post_duration_sec=2)
    tokens = connect_tiktok("tt-short")
    init = post_file(tokens.access_token, video_bytes)
    upload.upload_video(upload_url=init.upload_url, source=io.BytesIO(video_bytes), plan=init.plan)
    sandbox.advance(PROCESSING_S)
    status = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert (status.status, status.fail_reason) == ("FAILED", "duration_check_failed")
    assert status.error is not None and status.error.category is Category.CONTENT
    assert sandbox.ledger(platform="tiktok") == []


def test_it_posts_from_a_url(sandbox, connect_tiktok, receiver, video_bytes):
    tokens = connect_tiktok()
    url = receiver.serve("clip.mp4", video_bytes)
    init = tt.init_url_post(access_token=tokens.access_token, post_info=PUBLIC, video_url=url)
    assert init.publish_id.startswith("v_pub_url~") and init.upload_url is None
    pending = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert pending.status == "PROCESSING_DOWNLOAD"
    assert pending.downloaded_bytes == len(video_bytes)
    sandbox.advance(PROCESSING_S)
    done = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert done.status == "PUBLISH_COMPLETE"
    assert len(sandbox.ledger(platform="tiktok")) == 1


def test_it_sees_a_redirecting_url_fail_the_pull(sandbox, connect_tiktok, receiver, video_bytes):
    tokens = connect_tiktok()
    receiver.serve("clip.mp4", video_bytes)
    init = tt.init_url_post(
        access_token=tokens.access_token,
        post_info=PUBLIC,
        video_url=receiver.url("/redirect/clip.mp4"),  # 3xx is invalid (§1.6(e))
    )
    sandbox.advance(PROCESSING_S)
    status = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert (status.status, status.fail_reason) == ("FAILED", "video_pull_failed")
    assert status.error.category is Category.TRANSIENT and status.error.restart


def test_it_refuses_an_unverified_url_prefix(sandbox, connect_tiktok, receiver, video_bytes):
    sandbox.configure(tiktok_verified_url_prefixes=["https://media.switchboard.example/"])
    tokens = connect_tiktok()
    error = raises(
        tt.init_url_post,
        access_token=tokens.access_token,
        post_info=PUBLIC,
        video_url=receiver.serve("clip.mp4", video_bytes),
    )
    assert (error.category, error.code, error.http_status) == (
        Category.PERMANENT,
        "url_ownership_unverified",
        403,
    )


def test_it_cancels_a_pending_publish(sandbox, connect_tiktok, video_bytes):
    tokens = connect_tiktok()
    init = post_file(tokens.access_token, video_bytes)
    tt.cancel_publish(access_token=tokens.access_token, publish_id=init.publish_id)
    status = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert (status.status, status.fail_reason) == ("FAILED", "publish_cancelled")
    assert status.error.category is Category.PERMANENT
    error = raises(
        upload.upload_video,
        upload_url=init.upload_url,
        source=io.BytesIO(video_bytes),
        plan=init.plan,
    )
    assert error.code == "upload_403"
    assert sandbox.ledger(platform="tiktok") == []


def test_it_cannot_cancel_a_finished_publish(sandbox, connect_tiktok, video_bytes):
    tokens = connect_tiktok()
    init = post_file(tokens.access_token, video_bytes)
    upload.upload_video(upload_url=init.upload_url, source=io.BytesIO(video_bytes), plan=init.plan)
    sandbox.advance(PROCESSING_S)
    error = raises(tt.cancel_publish, access_token=tokens.access_token, publish_id=init.publish_id)
    assert (error.category, error.code) == (Category.PERMANENT, "publish_not_cancellable")
    assert len(sandbox.ledger(platform="tiktok")) == 1


def test_it_refuses_unknown_and_foreign_publish_ids(sandbox, connect_tiktok, video_bytes):
    owner = connect_tiktok()
    other = connect_tiktok("tt-private")
    init = post_file(owner.access_token, video_bytes)
    unknown = raises(tt.fetch_status, access_token=owner.access_token, publish_id="v_pub_file~nope")
    assert (unknown.category, unknown.code, unknown.restart) == (
        Category.TRANSIENT,
        "invalid_publish_id",
        True,
    )
    foreign = raises(tt.fetch_status, access_token=other.access_token, publish_id=init.publish_id)
    assert (foreign.category, foreign.code) == (
        Category.PERMANENT,
        "token_not_authorized_for_specified_publish_id",
    )
