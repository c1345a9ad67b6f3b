"""Every fault the sandbox can inject, on every endpoint, against the client function behind it.

The matrix is parametrized from the sandbox's own list of endpoints and presets
(`apps.emulator.faults.ENDPOINTS` / `presets_for`, read at collection time only; the tests still
drive the sandbox over HTTP). Our expectation for a preset lives in `EXPECTED` below, so a preset
the sandbox adds later shows up here as a failing case until someone says what it should mean.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from apps.emulator.faults import ENDPOINTS, presets_for
from apps.platforms.errors import AuthReason, Category, PlatformError
from apps.platforms.instagram import client as ig
from apps.platforms.tiktok import client as tt
from apps.platforms.tiktok import upload
from apps.platforms.tiktok.types import PostInfo
from tests.contract.conftest import CLIENT_READ_TIMEOUT_S, FAULT_LATENCY_MS, PROCESSING_S, a_day_ago
from tests.contract.helpers import ALL_IG_SCOPES, ALL_TT_SCOPES, IG_CALLBACK, TT_CALLBACK, Sandbox

pytestmark = pytest.mark.django_db(transaction=True)

A, RL, Q, T, C, P = (
    Category.AUTH,
    Category.RATE_LIMIT,
    Category.QUOTA,
    Category.TRANSIENT,
    Category.CONTENT,
    Category.PERMANENT,
)


@dataclass(frozen=True)
class Expect:
    category: Category
    auth_reason: AuthReason | None = None
    outcome_unknown: bool = False
    restart: bool = False
    timeout: bool = False


_5XX = Expect(T, outcome_unknown=True)
GENERIC = {
    "http_500": _5XX,
    "http_502": _5XX,
    "http_503": _5XX,
    "http_504": _5XX,
    "timeout": Expect(T, outcome_unknown=True, timeout=True),
}
# What our error tables promise for each preset, per error family (PLATFORMS §1.3, §1.8, §2.9).
EXPECTED: dict[str, dict[str, Expect]] = {
    "tiktok_api": {
        "rate_limit_exceeded": Expect(RL),
        "internal_error": _5XX,
        "access_token_invalid": Expect(A, AuthReason.EXPIRED),
        "scope_not_authorized": Expect(A, AuthReason.SCOPE_MISSING),
        "invalid_param": Expect(P),
        "spam_risk_too_many_posts": Expect(Q),
        "spam_risk_user_banned_from_posting": Expect(P),
        "reached_active_user_cap": Expect(Q),
        **GENERIC,
    },
    "tiktok_oauth": {
        "server_error": _5XX,
        "temporarily_unavailable": _5XX,
        "invalid_grant": Expect(A, AuthReason.EXPIRED),
        "invalid_client": Expect(P),
        "invalid_request": Expect(P),
        **GENERIC,
    },
    "graph": {
        "throttled": Expect(RL),
        "user_throttled": Expect(RL),
        "page_throttled": Expect(RL),
        "app_limit": Expect(RL),
        "transient": _5XX,
        "unknown": _5XX,
        "token_expired": Expect(A, AuthReason.EXPIRED),
        "spam": Expect(C),
        "daily_limit": Expect(Q),
        "upload_error": Expect(T, outcome_unknown=True, restart=True),
        "download_timeout": Expect(T, restart=True),
        **GENERIC,
    },
    "ig_oauth": {
        "oauth_error": Expect(A, AuthReason.EXPIRED),
        "server_error": _5XX,
        **GENERIC,
    },
    "raw": dict(GENERIC),  # the upload PUT: the chunk is retried, then upload_5xx / timeout
}
# Sandbox endpoints Switchboard has no client function for, and why.
NO_CLIENT_FUNCTION = {
    "tiktok.inbox_init": "Switchboard only Direct-Posts (DESIGN §9); inbox upload is unused",
}
CONSENT_PAGES = {"tiktok.authorize", "instagram.authorize"}  # HTML: the browser sees the error


@dataclass
class Ctx:
    sandbox: Sandbox
    receiver: Any
    connect_tiktok: Callable[..., Any]
    connect_instagram: Callable[..., Any]
    video: bytes


Call = Callable[[], object]
Prepare = Callable[[Ctx], Call]


def _tt_exchange(ctx: Ctx) -> Call:
    redirect_uri = ctx.receiver.url(TT_CALLBACK)
    verifier = tt.pkce_verifier()
    grant = ctx.sandbox.authorize(
        "tt-public",
        ALL_TT_SCOPES,
        redirect_uri,
        code_challenge=tt.pkce_challenge(verifier=verifier),
    )
    return lambda: tt.exchange_code(
        code=grant["code"], redirect_uri=redirect_uri, code_verifier=verifier
    )


def _tt_refresh(ctx: Ctx) -> Call:
    tokens = ctx.connect_tiktok()
    return lambda: tt.refresh_tokens(refresh_token=tokens.refresh_token)


def _tt_with_token(call: Callable[[str], object]) -> Prepare:
    def prepare(ctx: Ctx) -> Call:
        token = ctx.connect_tiktok().access_token
        return lambda: call(token)

    return prepare


def _tt_file_init(ctx: Ctx) -> tuple[str, Any]:
    token = ctx.connect_tiktok().access_token
    post = PostInfo(title="t", privacy_level="SELF_ONLY")
    return token, tt.init_file_post(access_token=token, post_info=post, video_size=len(ctx.video))


def _tt_upload(ctx: Ctx) -> Call:
    _, init = _tt_file_init(ctx)
    return lambda: upload.upload_video(
        upload_url=init.upload_url, source=io.BytesIO(ctx.video), plan=init.plan
    )


def _tt_status(ctx: Ctx) -> Call:
    token, init = _tt_file_init(ctx)
    return lambda: tt.fetch_status(access_token=token, publish_id=init.publish_id)


def _tt_cancel(ctx: Ctx) -> Call:
    token, init = _tt_file_init(ctx)
    return lambda: tt.cancel_publish(access_token=token, publish_id=init.publish_id)


def _tt_url_init(ctx: Ctx) -> Call:
    token = ctx.connect_tiktok().access_token
    url = ctx.receiver.serve("clip.mp4", ctx.video)
    post = PostInfo(title="t", privacy_level="SELF_ONLY")
    return lambda: tt.init_url_post(access_token=token, post_info=post, video_url=url)


def _ig_code_exchange(ctx: Ctx) -> Call:
    redirect_uri = ctx.receiver.url(IG_CALLBACK)
    grant = ctx.sandbox.authorize("ig-business", ALL_IG_SCOPES, redirect_uri)
    return lambda: ig.exchange_code(code=grant["code"], redirect_uri=redirect_uri)


def _ig_exchange(ctx: Ctx) -> Call:
    short = ctx.connect_instagram(long=False)
    return lambda: ig.exchange_long_lived(short_lived_token=short.access_token)


def _ig_refresh(ctx: Ctx) -> Call:
    token = ctx.connect_instagram().access_token
    ctx.sandbox.advance(hours=25)
    return lambda: ig.refresh_long_lived(access_token=token, issued_at=a_day_ago())


def _ig_with_token(call: Callable[[str], object]) -> Prepare:
    def prepare(ctx: Ctx) -> Call:
        token = ctx.connect_instagram().access_token
        return lambda: call(token)

    return prepare


def _ig_container(ctx: Ctx) -> tuple[str, str]:
    token = ctx.connect_instagram().access_token
    url = ctx.receiver.serve("reel.mp4", ctx.video)
    container = ig.create_reel_container(access_token=token, ig_user_id="me", video_url=url)
    return token, container.id


def _ig_media_create(ctx: Ctx) -> Call:
    token = ctx.connect_instagram().access_token
    url = ctx.receiver.serve("reel.mp4", ctx.video)
    return lambda: ig.create_reel_container(access_token=token, ig_user_id="me", video_url=url)


def _ig_container_status(ctx: Ctx) -> Call:
    token, container_id = _ig_container(ctx)
    return lambda: ig.get_container_status(access_token=token, container_id=container_id)


def _ig_publish(ctx: Ctx) -> Call:
    token, container_id = _ig_container(ctx)
    ctx.sandbox.advance(PROCESSING_S)
    return lambda: ig.publish_container(
        access_token=token, ig_user_id="me", container_id=container_id
    )


def _ig_media(ctx: Ctx) -> Call:
    token, container_id = _ig_container(ctx)
    ctx.sandbox.advance(PROCESSING_S)
    media = ig.publish_container(access_token=token, ig_user_id="me", container_id=container_id)
    return lambda: ig.get_media(access_token=token, media_id=media.id)


# endpoint -> [(client function, prepare)]: everything is set up before the fault is added.
CALLS: dict[str, list[tuple[str, Prepare]]] = {
    "tiktok.token": [("exchange_code", _tt_exchange), ("refresh_tokens", _tt_refresh)],
    "tiktok.revoke": [("revoke_token", _tt_with_token(lambda t: tt.revoke_token(access_token=t)))],
    "tiktok.user_info": [
        ("get_user_info", _tt_with_token(lambda t: tt.get_user_info(access_token=t)))
    ],
    "tiktok.creator_info": [
        ("query_creator_info", _tt_with_token(lambda t: tt.query_creator_info(access_token=t)))
    ],
    "tiktok.video_init": [
        (
            "init_file_post",
            _tt_with_token(
                lambda t: tt.init_file_post(
                    access_token=t,
                    post_info=PostInfo(title="t", privacy_level="SELF_ONLY"),
                    video_size=1000,
                )
            ),
        ),
        ("init_url_post", _tt_url_init),
    ],
    "tiktok.upload": [("upload_video", _tt_upload)],
    "tiktok.status": [("fetch_status", _tt_status)],
    "tiktok.cancel": [("cancel_publish", _tt_cancel)],
    "tiktok.video_list": [
        ("list_videos", _tt_with_token(lambda t: tt.list_videos(access_token=t)))
    ],
    "instagram.code_exchange": [("exchange_code", _ig_code_exchange)],
    "instagram.exchange": [("exchange_long_lived", _ig_exchange)],
    "instagram.refresh": [("refresh_long_lived", _ig_refresh)],
    "instagram.me": [("get_me", _ig_with_token(lambda t: ig.get_me(access_token=t)))],
    "instagram.media_create": [("create_reel_container", _ig_media_create)],
    "instagram.container": [
        ("get_container_status", _ig_container_status),
        ("get_media", _ig_media),
    ],
    "instagram.media_publish": [("publish_container", _ig_publish)],
    "instagram.publishing_limit": [
        (
            "get_publishing_limit",
            _ig_with_token(lambda t: ig.get_publishing_limit(access_token=t, ig_user_id="me")),
        )
    ],
    "instagram.permissions_delete": [
        ("delete_permissions", _ig_with_token(lambda t: ig.delete_permissions(access_token=t)))
    ],
}
NEVER_RAISES = {"delete_permissions"}  # best effort by design (§2.12): False instead


def _calls() -> list[Any]:
    return [
        pytest.param(endpoint, function, id=function)
        for endpoint, calls in CALLS.items()
        for function, _ in calls
    ]


@pytest.fixture
def ctx(sandbox, receiver, connect_tiktok, connect_instagram, video_bytes) -> Ctx:
    return Ctx(sandbox, receiver, connect_tiktok, connect_instagram, video_bytes)


def test_every_sandbox_endpoint_and_preset_is_covered(sandbox):
    listed = sandbox.faults()["endpoints"]
    assert listed == {name: presets_for(name) for name in ENDPOINTS}  # what we iterate over
    for endpoint, presets in listed.items():
        if endpoint in NO_CLIENT_FUNCTION or endpoint in CONSENT_PAGES:
            continue
        assert CALLS.get(endpoint), f"no client function exercised for {endpoint}"
        missing = set(presets) - set(EXPECTED[ENDPOINTS[endpoint]])
        assert not missing, f"say what {sorted(missing)} on {endpoint} should mean in EXPECTED"


@pytest.mark.parametrize(("endpoint", "function"), _calls())
def test_it_classifies_every_preset_the_sandbox_can_inject(
    ctx, settings, subtests, endpoint, function
):
    """One setup per client function, then each of the endpoint's presets in turn. A fault
    answers before the endpoint runs, so the prepared call stays valid from preset to preset."""
    call = dict(CALLS[endpoint])[function](ctx)
    normal_timeout = settings.HTTP_TIMEOUT
    for preset in presets_for(endpoint):
        with subtests.test(preset=preset):
            expected = EXPECTED[ENDPOINTS[endpoint]].get(preset)
            assert expected is not None, f"new preset {preset!r} for {endpoint}: add to EXPECTED"
            rule: dict[str, Any] = {"error": preset}
            settings.HTTP_TIMEOUT = normal_timeout
            if preset == "timeout":
                # The sandbox sleeps, then answers 504; our client gives up first.
                settings.HTTP_TIMEOUT = (5.0, CLIENT_READ_TIMEOUT_S)
                rule["latency_ms"] = FAULT_LATENCY_MS
            ctx.sandbox.fault(endpoint, **rule)
            try:
                if function in NEVER_RAISES:
                    assert call() is False
                    continue
                with pytest.raises(PlatformError) as info:
                    call()
            finally:
                ctx.sandbox.clear_faults()
            error = info.value
            assert error.category is expected.category, error
            assert error.auth_reason == expected.auth_reason, error
            assert error.outcome_unknown is expected.outcome_unknown, error
            assert error.timeout is expected.timeout, error
            assert error.restart is expected.restart, error
            if expected.category is RL and endpoint.startswith("tiktok."):
                assert error.retry_after == 60  # §1.7: a 1-minute window without Retry-After
    settings.HTTP_TIMEOUT = normal_timeout
    # With the faults gone the very same call goes through.
    if function not in NEVER_RAISES:
        call()


def _lost_cases() -> list[Any]:
    return [
        pytest.param(endpoint, function, id=function)
        for endpoint, calls in CALLS.items()
        for function, _ in calls
        if function not in NEVER_RAISES
    ]


@pytest.mark.parametrize(("endpoint", "function"), _lost_cases())
def test_a_lost_response_after_the_side_effect_is_outcome_unknown(ctx, endpoint, function):
    call = dict(CALLS[endpoint])[function](ctx)
    ctx.sandbox.fault(endpoint, lost_response=True)
    with pytest.raises(PlatformError) as info:
        call()
    assert info.value.category is T
    assert info.value.outcome_unknown is True


def test_latency_alone_only_slows_the_call(ctx):
    call = _tt_with_token(lambda t: tt.get_user_info(access_token=t))(ctx)
    ctx.sandbox.fault("tiktok.user_info", latency_ms=50)
    assert call().open_id


def test_a_fault_with_times_fires_that_often_then_the_call_succeeds(ctx):
    call = _ig_with_token(lambda t: ig.get_me(access_token=t))(ctx)
    ctx.sandbox.fault("instagram.me", error="throttled", times=2)
    for _ in range(2):
        with pytest.raises(PlatformError):
            call()
    assert call().username == "sbx_business"


@pytest.mark.parametrize("endpoint", sorted(CONSENT_PAGES))
@pytest.mark.parametrize("preset", ["http_500", "http_502", "http_503", "http_504"])
def test_the_consent_page_shows_the_injected_failure(ctx, endpoint, preset):
    if endpoint == "tiktok.authorize":
        url = tt.authorize_url(
            redirect_uri=ctx.receiver.url(TT_CALLBACK),
            state="s",
            code_challenge=tt.pkce_challenge(verifier=tt.pkce_verifier()),
        )
    else:
        url = ig.authorize_url(redirect_uri=ctx.receiver.url(IG_CALLBACK), state="s")
    assert presets_for(endpoint) == sorted(GENERIC)
    ctx.sandbox.fault(endpoint, error=preset)
    page = requests.get(url, timeout=10, allow_redirects=False)
    assert page.status_code == int(preset.removeprefix("http_"))
    assert ctx.receiver.requests == []  # no callback: the user is stuck on the platform
