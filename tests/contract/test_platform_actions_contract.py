"""Platform-side actions (done in the sandbox, outside Switchboard) → the category our error
tables promise on the next client call (PLATFORMS §4)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from apps.platforms.errors import AuthReason, Category, PlatformError
from apps.platforms.instagram import client as ig
from apps.platforms.tiktok import client as tt
from apps.platforms.tiktok import upload
from apps.platforms.tiktok.types import PostInfo
from tests.contract.conftest import PROCESSING_S, a_day_ago

pytestmark = pytest.mark.django_db(transaction=True)

PUBLIC = PostInfo(title="hello", privacy_level="PUBLIC_TO_EVERYONE")


def raises(call: Any, **kwargs: Any) -> PlatformError:
    with pytest.raises(PlatformError) as info:
        call(**kwargs)
    return info.value


# --- TikTok ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [1, 2, 3, 4])
def test_tiktok_remove_app_kills_access_and_refresh(sandbox, connect_tiktok, reason):
    tokens = connect_tiktok()
    sandbox.action("tt-public", "remove_app", reason=reason)
    access = raises(tt.get_user_info, access_token=tokens.access_token)
    # §4.4: 401 access_token_invalid → refresh, which fails invalid_grant → reconnect.
    assert (access.category, access.code) == (Category.AUTH, "access_token_invalid")
    refresh = raises(tt.refresh_tokens, refresh_token=tokens.refresh_token)
    assert (refresh.category, refresh.code) == (Category.AUTH, "invalid_grant")


def test_tiktok_remove_app_fails_an_upload_in_flight(sandbox, connect_tiktok, video_bytes):
    tokens = connect_tiktok()
    init = tt.init_file_post(
        access_token=tokens.access_token, post_info=PUBLIC, video_size=len(video_bytes)
    )
    sandbox.action("tt-public", "remove_app")
    publishes = sandbox.state()["publishes"]
    assert [(p["status"], p["fail_reason"]) for p in publishes] == [("FAILED", "auth_removed")]
    error = raises(
        upload.upload_video,
        upload_url=init.upload_url,
        source=io.BytesIO(video_bytes),
        plan=init.plan,
    )
    assert error.category is Category.TRANSIENT and error.restart  # the restart then hits AUTH
    assert sandbox.ledger(platform="tiktok") == []


def test_tiktok_password_change_surfaces_as_an_invalid_token(sandbox, connect_tiktok):
    tokens = connect_tiktok()
    sandbox.action("tt-public", "change_password")
    # §4.6: TikTok has no distinct signal.
    access = raises(tt.get_user_info, access_token=tokens.access_token)
    assert (access.code, access.auth_reason) == ("access_token_invalid", AuthReason.EXPIRED)
    refresh = raises(tt.refresh_tokens, refresh_token=tokens.refresh_token)
    assert (refresh.code, refresh.auth_reason) == ("invalid_grant", AuthReason.EXPIRED)


@pytest.mark.parametrize(
    ("setup", "code", "category"),
    [
        ("ban_posting", "spam_risk_user_banned_from_posting", Category.PERMANENT),
        ("exhaust_quota", "spam_risk_too_many_posts", Category.QUOTA),
        ("active_user_cap", "reached_active_user_cap", Category.QUOTA),
    ],
)
def test_tiktok_posting_blocks_show_on_creator_info_and_init(
    sandbox, connect_tiktok, video_bytes, setup, code, category
):
    tokens = connect_tiktok()
    if setup == "active_user_cap":
        sandbox.configure(tiktok_active_user_cap=0)
    else:
        sandbox.action("tt-public", setup)
    info = raises(tt.query_creator_info, access_token=tokens.access_token)
    assert (info.code, info.category, info.http_status) == (code, category, 200)  # §1.6(a)
    init = raises(
        tt.init_file_post,
        access_token=tokens.access_token,
        post_info=PUBLIC,
        video_size=len(video_bytes),
    )
    assert (init.code, init.category, init.http_status) == (code, category, 403)
    # The token itself is fine (§4.11).
    assert tt.get_user_info(access_token=tokens.access_token).open_id == tokens.account_id


def test_tiktok_daily_post_cap_counts_direct_posts(sandbox, connect_tiktok, video_bytes):
    sandbox.update_account("tt-public", daily_post_cap=1)
    tokens = connect_tiktok()
    post = PostInfo(title="one", privacy_level="SELF_ONLY")
    tt.init_file_post(access_token=tokens.access_token, post_info=post, video_size=len(video_bytes))
    error = raises(
        tt.init_file_post,
        access_token=tokens.access_token,
        post_info=post,
        video_size=len(video_bytes),
    )
    assert (error.code, error.category) == ("spam_risk_too_many_posts", Category.QUOTA)


def test_tiktok_making_the_account_private_changes_the_privacy_options(
    sandbox, connect_tiktok, video_bytes
):
    tokens = connect_tiktok()
    sandbox.action("tt-public", "make_private")
    info = tt.query_creator_info(access_token=tokens.access_token)
    assert "PUBLIC_TO_EVERYONE" not in info.privacy_level_options
    assert "FOLLOWER_OF_CREATOR" in info.privacy_level_options
    error = raises(
        tt.init_file_post,
        access_token=tokens.access_token,
        post_info=PUBLIC,
        video_size=len(video_bytes),
    )
    assert (error.code, error.category) == ("privacy_level_option_mismatch", Category.PERMANENT)


def test_tiktok_unaudited_client_may_only_post_self_only_to_private_accounts(
    sandbox, connect_tiktok, video_bytes
):
    sandbox.configure(tiktok_client_audited=False)
    public = connect_tiktok()
    error = raises(
        tt.init_file_post,
        access_token=public.access_token,
        post_info=PostInfo(title="x", privacy_level="SELF_ONLY"),
        video_size=len(video_bytes),
    )
    assert (error.code, error.category) == (
        "unaudited_client_can_only_post_to_private_accounts",
        Category.PERMANENT,
    )
    private = connect_tiktok("tt-private")
    init = tt.init_file_post(
        access_token=private.access_token,
        post_info=PostInfo(title="x", privacy_level="SELF_ONLY"),
        video_size=len(video_bytes),
    )
    upload.upload_video(upload_url=init.upload_url, source=io.BytesIO(video_bytes), plan=init.plan)
    sandbox.advance(PROCESSING_S)
    status = tt.fetch_status(access_token=private.access_token, publish_id=init.publish_id)
    assert status.status == "PUBLISH_COMPLETE"


# --- Instagram ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "code", "reason"),
    [
        ("change_password", "190/460", AuthReason.PASSWORD_CHANGED),
        ("checkpoint", "190/459", AuthReason.CHECKPOINT),
        ("remove_app", "190/458", AuthReason.REVOKED),
    ],
)
def test_instagram_account_events_end_the_token(sandbox, connect_instagram, action, code, reason):
    token = connect_instagram().access_token
    sandbox.action("ig-business", action)
    error = raises(ig.get_me, access_token=token)
    assert (error.category, error.code, error.auth_reason) == (Category.AUTH, code, reason)
    refresh = raises(ig.refresh_long_lived, access_token=token, issued_at=a_day_ago())
    assert refresh.code == code


def test_instagram_checkpoint_clears_when_the_user_signs_in_again(sandbox, connect_instagram):
    connect_instagram()
    sandbox.action("ig-business", "checkpoint")
    fresh = connect_instagram()  # consent = logging in (§2.9 subcode 459)
    assert ig.get_me(access_token=fresh.access_token).username == "sbx_business"


def test_instagram_posting_ban_refuses_containers_but_not_the_profile(
    sandbox, connect_instagram, receiver, video_bytes
):
    token = connect_instagram().access_token
    sandbox.action("ig-business", "ban_posting")
    error = raises(
        ig.create_reel_container,
        access_token=token,
        ig_user_id="me",
        video_url=receiver.serve("reel.mp4", video_bytes),
    )
    assert (error.category, error.code) == (Category.PERMANENT, "25/2207050")
    assert ig.get_me(access_token=token).username == "sbx_business"


def test_instagram_personal_account_cannot_publish(
    sandbox, connect_instagram, receiver, video_bytes
):
    token = connect_instagram().access_token
    sandbox.action("ig-business", "make_personal")
    me = ig.get_me(access_token=token)
    assert me.account_type == "PERSONAL" and not me.is_professional  # §4.18
    error = raises(
        ig.create_reel_container,
        access_token=token,
        ig_user_id="me",
        video_url=receiver.serve("reel.mp4", video_bytes),
    )
    assert (error.category, error.code, error.auth_reason) == (
        Category.AUTH,
        "10",
        AuthReason.SCOPE_MISSING,
    )
