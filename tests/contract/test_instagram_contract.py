"""Instagram client ↔ sandbox, over real HTTP: every client function, success and refusal paths."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from apps.platforms.errors import AuthReason, Category, PlatformError
from apps.platforms.instagram import client as ig
from apps.platforms.instagram import rules as ig_rules
from tests.contract.conftest import PROCESSING_S, a_day_ago
from tests.contract.helpers import ALL_IG_SCOPES, IG_CALLBACK, query_of

pytestmark = pytest.mark.django_db(transaction=True)


def raises(call: Any, **kwargs: Any) -> PlatformError:
    with pytest.raises(PlatformError) as info:
        call(**kwargs)
    return info.value


def consent(url: str, **form: Any) -> requests.Response:
    """Load the consent page like a browser and submit it; returns the un-followed answer."""
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf
    return browser.post(
        url,
        data={"csrfmiddlewaretoken": csrf.group(1), **form},
        allow_redirects=False,
        timeout=10,
    )


def reel(sandbox, receiver, token: str, data: bytes, ig_user_id: str = "me", **kw: Any) -> str:
    url = receiver.serve("reel.mp4", data)
    return ig.create_reel_container(
        access_token=token, ig_user_id=ig_user_id, video_url=url, **kw
    ).id


# --- OAuth (§2.2-§2.5) ----------------------------------------------------------------------


def test_it_follows_authorize_url_through_the_consent_form_to_tokens(sandbox, receiver):
    redirect_uri = receiver.url(IG_CALLBACK)
    url = ig.authorize_url(redirect_uri=redirect_uri, state="ig-st", force_authentication=True)
    answer = consent(
        url,
        account="ig-creator",
        scopes=["instagram_business_content_publish"],
        decision="allow",
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(redirect_uri + "?") and location.endswith("#_")
    callback = query_of(location)
    assert callback["state"] == "ig-st"

    short = ig.exchange_code(code=callback["code"] + "#_", redirect_uri=redirect_uri)
    assert short.scopes == set(ALL_IG_SCOPES)
    assert short.expires_in == 3600
    assert short.account_id == sandbox.account("ig-creator")["app_scoped_id"]
    long = ig.exchange_long_lived(short_lived_token=short.access_token)
    assert long.access_token != short.access_token
    assert 59 * 86400 < long.expires_in <= 60 * 86400
    assert long.token_type == "bearer"

    again = raises(ig.exchange_code, code=callback["code"], redirect_uri=redirect_uri)
    assert (again.category, again.code, again.auth_reason) == (
        Category.AUTH,
        "oauth_400",
        AuthReason.EXPIRED,
    )


def test_a_forced_re_login_reaches_the_consent_page_as_one(sandbox, receiver):
    """PLATFORMS §2.2: our forced re-login sends `force_reauth=true` (plus the documented
    `force_authentication=1`), and the sandbox's consent page takes it."""
    redirect_uri = receiver.url(IG_CALLBACK)
    forced = ig.authorize_url(redirect_uri=redirect_uri, state="f", force_authentication=True)
    assert query_of(forced)["force_reauth"] == "true"
    assert "data-forced-login" in requests.get(forced, timeout=10).text
    plain = ig.authorize_url(redirect_uri=redirect_uri, state="p")
    assert "data-forced-login" not in requests.get(plain, timeout=10).text


def test_it_sees_the_denial_and_the_personal_account_refusal(sandbox, receiver):
    url = ig.authorize_url(redirect_uri=receiver.url(IG_CALLBACK), state="x")
    denied = consent(url, decision="deny")
    callback = query_of(denied.headers["Location"])
    assert (callback["error"], callback["error_reason"]) == ("access_denied", "user_denied")

    personal = consent(url, account="ig-personal", decision="allow")
    assert personal.status_code == 302  # the refusal reaches the app (§4.18)
    refused = query_of(personal.headers["Location"])
    assert (refused["error"], refused["error_reason"], refused["state"]) == (
        "access_denied",
        ig_rules.NOT_PROFESSIONAL_ERROR_REASON,
        "x",
    )


def test_the_sandbox_answers_the_code_exchange_flat_with_permissions_by_default(sandbox, receiver):
    """PLATFORMS §2.3: the flat body production clients read, `permissions` included."""
    redirect_uri = receiver.url(IG_CALLBACK)
    grant = sandbox.authorize("ig-business", ALL_IG_SCOPES, redirect_uri)
    body = requests.post(
        sandbox.url("/_emulator/instagram-api/oauth/access_token"),
        data={
            "client_id": settings.INSTAGRAM_APP_ID,
            "client_secret": settings.INSTAGRAM_APP_SECRET,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code": grant["code"],
        },
        timeout=10,
    ).json()
    assert set(body) == {"access_token", "user_id", "permissions"}
    assert body["user_id"] == int(sandbox.account("ig-business")["app_scoped_id"])
    assert body["permissions"].split(",") == list(ALL_IG_SCOPES)


@pytest.mark.parametrize("shape", [None, "flat", "data"])
def test_it_reads_both_token_shapes_alike(sandbox, connect_instagram, shape):
    if shape:
        sandbox.configure(instagram_token_shape=shape)
    short = connect_instagram(scopes=("instagram_business_basic",), long=False)
    assert short.scopes == {"instagram_business_basic"}
    assert short.account_id == sandbox.account("ig-business")["app_scoped_id"]
    assert short.expires_in == 3600
    assert ig.get_me(access_token=short.access_token).username == "sbx_business"


@pytest.mark.parametrize("version", ["v21.0", "v25.0"])
def test_the_token_endpoints_are_reached_unversioned_whatever_the_graph_version(
    sandbox, connect_instagram, settings, version
):
    """PLATFORMS §2.1: access_token / refresh_access_token exist only unversioned, so a
    versioned path is an error on the sandbox as on the real host, and our client never
    sends one."""
    settings.INSTAGRAM_GRAPH_VERSION = version
    short = connect_instagram(long=False)
    versioned = requests.get(
        sandbox.url(f"/_emulator/instagram-graph/{version}/access_token"),
        params={
            "grant_type": "ig_exchange_token",
            "client_secret": settings.INSTAGRAM_APP_SECRET,
            "access_token": short.access_token,
        },
        timeout=10,
    )
    assert versioned.status_code == 400
    assert versioned.json()["error"]["code"] == 100

    long = ig.exchange_long_lived(short_lived_token=short.access_token)
    sandbox.advance(hours=25)
    fresh = ig.refresh_long_lived(access_token=long.access_token, issued_at=a_day_ago())
    assert fresh.access_token != long.access_token
    # Versioned calls still work where they belong.
    assert ig.get_me(access_token=fresh.access_token).username == "sbx_business"


def test_it_sees_declined_permissions_in_the_grant(sandbox, connect_instagram):
    short = connect_instagram(scopes=("instagram_business_basic",), long=False)
    assert short.missing_scopes(ig.PUBLISH_SCOPES) == {"instagram_business_content_publish"}


def test_it_refreshes_only_after_24_hours(sandbox, connect_instagram):
    token = connect_instagram()
    issued = timezone.now()
    too_young = raises(ig.refresh_long_lived, access_token=token.access_token, issued_at=issued)
    assert (too_young.category, too_young.code) == (Category.TRANSIENT, "token_too_young")
    assert 86000 < too_young.retry_after <= 86400
    # The sandbox agrees the token is still valid and unrefreshed.
    assert ig.get_me(access_token=token.access_token).username == "sbx_business"

    sandbox.advance(hours=24, seconds=60)
    fresh = ig.refresh_long_lived(
        access_token=token.access_token,
        issued_at=issued,
        now=issued + timedelta(hours=24, seconds=60),
    )
    assert 59 * 86400 < fresh.expires_in <= 60 * 86400
    assert ig.get_me(access_token=fresh.access_token).username == "sbx_business"


def test_it_cannot_refresh_an_expired_token(sandbox, connect_instagram):
    token = connect_instagram()
    sandbox.advance(days=61)
    expired = raises(ig.get_me, access_token=token.access_token)
    assert (expired.category, expired.code, expired.auth_reason) == (
        Category.AUTH,
        "190/463",
        AuthReason.EXPIRED,
    )
    refresh = raises(ig.refresh_long_lived, access_token=token.access_token, issued_at=a_day_ago())
    assert refresh.code == "190/463"


def test_it_disconnects_with_delete_permissions(sandbox, connect_instagram, receiver):
    token = connect_instagram()
    assert ig.delete_permissions(access_token=token.access_token) is True
    revoked = raises(ig.get_me, access_token=token.access_token)
    assert (revoked.category, revoked.auth_reason) == (Category.AUTH, AuthReason.REVOKED)
    assert ig.delete_permissions(access_token=token.access_token) is False  # best effort
    assert receiver.requests == []  # the app asked, so no deauthorize callback (§2.12)


# --- Graph (§2.6, §2.7) ---------------------------------------------------------------------


def test_it_reads_the_profile_and_the_health_probe(sandbox, connect_instagram):
    token = connect_instagram()
    account = sandbox.account("ig-business")
    me = ig.get_me(access_token=token.access_token)
    assert (me.id, me.user_id) == (account["app_scoped_id"], account["ig_user_id"])
    assert (me.username, me.name, me.account_type) == (
        "sbx_business",
        "Sandbox Business",
        "BUSINESS",
    )
    assert me.is_professional and me.media_count == 0
    assert requests.get(me.profile_picture_url, timeout=10).status_code == 200
    probe = ig.get_me(access_token=token.access_token, fields=ig.PROBE_FIELDS)
    assert probe.user_id == account["ig_user_id"]


@pytest.mark.parametrize("node", ["me", "user_id", "id"])
def test_it_publishes_a_reel_end_to_end(sandbox, connect_instagram, receiver, video_bytes, node):
    token = connect_instagram().access_token
    me = ig.get_me(access_token=token)
    ig_user_id = {"me": "me", "user_id": me.user_id, "id": me.id}[node]
    container_id = reel(
        sandbox,
        receiver,
        token,
        video_bytes,
        ig_user_id,
        caption="Hello #reels",
        thumb_offset_ms=500,
    )

    status = ig.get_container_status(access_token=token, container_id=container_id)
    assert status.status_code == "IN_PROGRESS" and not status.is_ready and status.error is None
    early = raises(
        ig.publish_container, access_token=token, ig_user_id=ig_user_id, container_id=container_id
    )
    assert (early.category, early.code, early.retry_after) == (
        Category.TRANSIENT,
        "9007/2207027",
        60,
    )

    sandbox.advance(PROCESSING_S)
    assert ig.get_container_status(access_token=token, container_id=container_id).is_ready
    media = ig.publish_container(
        access_token=token, ig_user_id=ig_user_id, container_id=container_id
    )
    info = ig.get_media(access_token=token, media_id=media.id)
    assert (info.id, info.media_type, info.media_product_type) == (media.id, "VIDEO", "REELS")
    assert "/instagram/reel/" in info.permalink
    assert requests.get(info.permalink, timeout=10).status_code == 200
    assert (
        ig.get_container_status(access_token=token, container_id=container_id).status_code
        == "PUBLISHED"
    )

    ledger = sandbox.ledger(platform="instagram")
    assert [(row["post_id"], row["caption"]) for row in ledger] == [(media.id, "Hello #reels")]
    limit = ig.get_publishing_limit(access_token=token, ig_user_id=ig_user_id)
    assert (limit.quota_usage, limit.quota_total, limit.quota_duration) == (1, 100, 86400)
    assert limit.remaining == 99

    # Publishing the same container again never makes a second post.
    with pytest.raises(PlatformError):
        ig.publish_container(access_token=token, ig_user_id=ig_user_id, container_id=container_id)
    assert len(sandbox.ledger(platform="instagram")) == 1


def test_a_lost_publish_response_reconciles_to_exactly_one_post(
    sandbox, connect_instagram, receiver, video_bytes
):
    token = connect_instagram().access_token
    container_id = reel(sandbox, receiver, token, video_bytes)
    sandbox.advance(PROCESSING_S)
    sandbox.fault("instagram.media_publish", lost_response=True, times=1)
    lost = raises(
        ig.publish_container, access_token=token, ig_user_id="me", container_id=container_id
    )
    assert lost.outcome_unknown and lost.category is Category.TRANSIENT
    # Reconcile before repeating: the container says it was published.
    status = ig.get_container_status(access_token=token, container_id=container_id)
    assert status.status_code == "PUBLISHED"
    with pytest.raises(PlatformError):
        ig.publish_container(access_token=token, ig_user_id="me", container_id=container_id)
    assert len(sandbox.ledger(platform="instagram")) == 1


def test_it_reports_an_unsupported_video_as_a_content_error(
    sandbox, connect_instagram, receiver, short_video_bytes
):
    token = connect_instagram().access_token
    container_id = reel(sandbox, receiver, token, short_video_bytes)  # 1 s < 3 s minimum
    sandbox.advance(PROCESSING_S)
    status = ig.get_container_status(access_token=token, container_id=container_id)
    assert status.status_code == "ERROR" and "2207026" in status.status
    assert (status.error.category, status.error.code) == (Category.CONTENT, "352/2207026")
    error = raises(
        ig.publish_container, access_token=token, ig_user_id="me", container_id=container_id
    )
    assert (error.category, error.code) == (Category.CONTENT, "352/2207026")
    assert sandbox.ledger(platform="instagram") == []


def test_it_reports_an_unfetchable_video_url(sandbox, connect_instagram, receiver):
    token = connect_instagram().access_token
    error = raises(
        ig.create_reel_container,
        access_token=token,
        ig_user_id="me",
        video_url=receiver.url("/media/missing.mp4"),
    )
    assert (error.category, error.code) == (Category.CONTENT, "9004/2207052")


def test_it_follows_a_redirecting_video_url(sandbox, connect_instagram, receiver, video_bytes):
    token = connect_instagram().access_token
    receiver.serve("reel.mp4", video_bytes)
    container = ig.create_reel_container(
        access_token=token, ig_user_id="me", video_url=receiver.url("/redirect/reel.mp4")
    )
    sandbox.advance(PROCESSING_S)
    assert ig.get_container_status(access_token=token, container_id=container.id).is_ready


@pytest.mark.parametrize(
    ("kwargs", "code", "category"),
    [
        ({"caption": "x" * 2201}, "36004/2207010", Category.CONTENT),
        ({"caption": " ".join(f"@user{n}" for n in range(21))}, "100/2207040", Category.CONTENT),
        ({"thumb_offset_ms": 60_000}, "1/2207057", Category.CONTENT),
    ],
)
def test_it_refuses_bad_container_parameters(
    sandbox, connect_instagram, receiver, video_bytes, kwargs, code, category
):
    token = connect_instagram().access_token
    error = raises(
        ig.create_reel_container,
        access_token=token,
        ig_user_id="me",
        video_url=receiver.serve("reel.mp4", video_bytes),
        **kwargs,
    )
    assert (error.code, error.category) == (code, category)


def test_a_container_expires_after_24_hours(sandbox, connect_instagram, receiver, video_bytes):
    token = connect_instagram().access_token
    container_id = reel(sandbox, receiver, token, video_bytes)
    sandbox.advance(hours=24, seconds=1)
    status = ig.get_container_status(access_token=token, container_id=container_id)
    assert status.status_code == "EXPIRED"
    assert (status.error.category, status.error.restart) == (Category.TRANSIENT, True)
    error = raises(
        ig.publish_container, access_token=token, ig_user_id="me", container_id=container_id
    )
    assert (error.code, error.category, error.restart) == ("-2/2207020", Category.TRANSIENT, True)


def test_it_refuses_unknown_and_foreign_containers(
    sandbox, connect_instagram, receiver, video_bytes
):
    owner = connect_instagram().access_token
    other = connect_instagram("ig-creator").access_token
    container_id = reel(sandbox, receiver, owner, video_bytes)
    sandbox.advance(PROCESSING_S)
    unknown = raises(
        ig.publish_container, access_token=owner, ig_user_id="me", container_id="1790000000000"
    )
    assert (unknown.code, unknown.category) == ("24/2207008", Category.TRANSIENT)
    foreign = raises(
        ig.publish_container, access_token=other, ig_user_id="me", container_id=container_id
    )
    assert foreign.code == "24/2207006"


def test_it_needs_the_publish_permission(sandbox, connect_instagram, receiver, video_bytes):
    token = connect_instagram(scopes=("instagram_business_basic",)).access_token
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


def test_it_reads_an_exhausted_quota_and_is_refused_publishing(
    sandbox, connect_instagram, receiver, video_bytes
):
    token = connect_instagram().access_token
    container_id = reel(sandbox, receiver, token, video_bytes)
    sandbox.advance(PROCESSING_S)
    sandbox.update_account("ig-business", daily_post_cap=25)
    sandbox.action("ig-business", "exhaust_quota")
    limit = ig.get_publishing_limit(access_token=token, ig_user_id="me")
    assert (limit.quota_usage, limit.quota_total, limit.remaining) == (25, 25, 0)
    error = raises(
        ig.publish_container, access_token=token, ig_user_id="me", container_id=container_id
    )
    assert (error.category, error.code) == (Category.QUOTA, "9/2207042")
    sandbox.action("ig-business", "reset_quota")
    ig.publish_container(access_token=token, ig_user_id="me", container_id=container_id)
    assert len(sandbox.ledger(platform="instagram")) == 1
