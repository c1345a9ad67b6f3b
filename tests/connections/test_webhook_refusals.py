"""Refused webhook deliveries: each answer says what is wrong, each leaves a small record, and a
flood of forgeries is capped per platform and minute (DESIGN §5, §10)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from apps.connections.models import Credential, LinkedAccount, State, WebhookEvent
from tests.connections.webhook_helpers import (
    IG_DEAUTHORIZE_URL,
    IG_DELETION_URL,
    b64url,
    instagram_account_for,
    post_signed,
    post_tiktok,
    sign_payload,
    signed_request,
    state_of,
    tiktok_account_for,
    tiktok_body,
    tiktok_signature,
)

# The middle of a minute, so a burst of posts cannot straddle two rate-limit windows.
MID_MINUTE = datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC)


@pytest.fixture
def tiktok_account(client_obj):
    return tiktok_account_for(client_obj)


@pytest.fixture
def instagram_account(client_obj):
    return instagram_account_for(client_obj)


def signed_raw(raw: bytes) -> str:
    encoded = b64url(raw)
    return sign_payload(encoded) + "." + encoded


# --- What is wrong ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", b"malformed body: body is not JSON"),
        (b"[1, 2]", b"malformed body: body is not a JSON object"),
        (b'{"content": "{}"}', b"malformed body: body has no event"),
        (b'{"event": "x", "content": "[1]"}', b"malformed body: content is not a JSON object"),
        (b'{"event": "x", "content": "{"}', b"malformed body: content is not JSON"),
        (b'{"event": "x", "create_time": "soon"}', b"malformed body: create_time is not a number"),
    ],
)
@pytest.mark.django_db
def test_a_signed_but_malformed_tiktok_body_says_what_is_wrong(tiktok_account, body, message):
    response = post_tiktok(body, tiktok_signature(body))
    assert (response.status_code, response.content) == (400, message)
    event = WebhookEvent.objects.get()
    assert not event.verified and event.verification_error == message.decode()
    assert state_of(tiktok_account) == State.ACTIVE


@pytest.mark.parametrize(
    ("make_header", "message"),
    [
        (lambda body: None, b"invalid signature (missing)"),
        (lambda body: "t=abc,s=00", b"invalid signature (malformed)"),
        (lambda body: "t=\u00b2,s=00", b"invalid signature (malformed)"),
        (lambda body: tiktok_signature(body, secret="nope"), b"invalid signature (forged)"),
        (lambda body: tiktok_signature(body, at=1_000_000_000), b"invalid signature (stale)"),
    ],
)
@pytest.mark.django_db
def test_a_bad_tiktok_signature_says_which_check_failed(tiktok_account, make_header, message):
    body = tiktok_body(tiktok_account.external_id)
    response = post_tiktok(body, make_header(body))
    assert (response.status_code, response.content) == (400, message)
    assert state_of(tiktok_account) == State.ACTIVE


def _payload(**fields) -> bytes:
    return json.dumps(
        {"algorithm": "HMAC-SHA256", "user_id": "26900000000000001", **fields}
    ).encode()


@pytest.mark.parametrize("url", [IG_DEAUTHORIZE_URL, IG_DELETION_URL])
@pytest.mark.parametrize(
    ("make_value", "message"),
    [
        pytest.param(lambda: None, b"missing signed_request", id="no-field"),
        pytest.param(lambda: "", b"missing signed_request", id="empty"),
        pytest.param(
            lambda: "garbage",
            b"malformed signed_request: expected <signature>.<payload>",
            id="no-separator",
        ),
        pytest.param(
            lambda: signed_request("26900000000000001", secret="not-the-app-secret"),
            b"invalid signature",
            id="bad-signature",
        ),
        pytest.param(
            lambda: signed_raw(_payload(algorithm="HMAC-SHA1")),
            b"unsupported algorithm (expected HMAC-SHA256)",
            id="algorithm",
        ),
        pytest.param(
            lambda: signed_raw(b"not json"), b"malformed payload: not JSON", id="not-json"
        ),
        pytest.param(
            lambda: signed_raw(b"[1]"), b"malformed payload: not a JSON object", id="not-object"
        ),
        pytest.param(
            lambda: signed_raw(_payload(user_id="")), b"malformed payload: no user_id", id="user"
        ),
    ],
)
@pytest.mark.django_db
def test_a_refused_instagram_callback_says_what_is_wrong(
    instagram_account, url, make_value, message
):
    response = post_signed(url, make_value())
    assert (response.status_code, response.content) == (400, message)
    assert settings.INSTAGRAM_APP_SECRET.encode() not in response.content
    event = WebhookEvent.objects.get()
    assert not event.verified and event.verification_error == message.decode()
    account = LinkedAccount.objects.get(pk=instagram_account.pk)
    assert account.state == State.ACTIVE and account.display_name == "Northwind IG"
    assert Credential.objects.filter(account=account).exists()


# --- A bounded record -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_forged_delivery_leaves_a_small_record_without_the_signature(tiktok_account):
    body = tiktok_body(tiktok_account.external_id) + b" " * 50_000
    forged = tiktok_signature(body, secret="attacker")
    response = post_tiktok(body, forged, HTTP_USER_AGENT="curl/8.0")
    assert response.status_code == 400
    event = WebhookEvent.objects.get()
    assert event.body_size == len(body) and len(event.body_sha256) == 64
    assert event.body_excerpt == body[: WebhookEvent.EXCERPT_BYTES].decode()
    assert event.payload == {} and event.external_id == ""
    assert event.request_summary["user-agent"] == "curl/8.0"
    assert event.request_summary["content-type"] == "application/json"
    assert event.request_summary["signature"] == {
        "name": "TikTok-Signature",
        "present": True,
        "length": len(forged),
    }
    assert event.request_summary["ip"] == "127.0.0.1"
    stored = json.dumps(
        [event.body_excerpt, event.request_summary, event.verification_error, event.payload]
    )
    assert forged.split("s=")[1] not in stored
    assert len(stored) < 3 * 1024


@pytest.mark.django_db
def test_undecodable_bytes_and_nul_are_stored_as_text(tiktok_account):
    body = b"\x00\xff\xfe" + "é".encode() * 2000
    post_tiktok(body, "t=1,s=00")
    excerpt = WebhookEvent.objects.get().body_excerpt
    assert "\x00" not in excerpt and len(excerpt) <= WebhookEvent.EXCERPT_BYTES


@pytest.mark.django_db
def test_an_instagram_refusal_records_only_whether_the_signed_request_came(instagram_account):
    value = signed_request(instagram_account.app_scoped_id, secret="not-the-app-secret")
    post_signed(IG_DEAUTHORIZE_URL, value)
    summary = WebhookEvent.objects.get().request_summary
    assert summary["signature"] == {
        "name": "signed_request",
        "present": True,
        "length": len(value),
    }
    assert value.split(".")[0] not in json.dumps(summary)


# --- At most N per platform and minute --------------------------------------------------------


@pytest.mark.django_db
def test_a_hundred_forged_posts_leave_at_most_the_cap_each_of_them_small(tiktok_account):
    body = tiktok_body(tiktok_account.external_id) + b" " * 60_000  # ~60 KB, under the size limit
    with time_machine.travel(MID_MINUTE, tick=False):
        statuses = [
            post_tiktok(body, tiktok_signature(body, secret=f"forger-{n}")).status_code
            for n in range(100)
        ]
    cap = settings.WEBHOOK_UNVERIFIED_PER_MINUTE
    assert statuses == [400] * cap + [429] * (100 - cap)
    rows = list(WebhookEvent.objects.all())
    assert len(rows) == cap
    for row in rows:
        assert row.payload == {} and len(row.body_excerpt) <= WebhookEvent.EXCERPT_BYTES
        assert len(json.dumps(row.request_summary)) < 300
    assert state_of(tiktok_account) == State.ACTIVE


@pytest.mark.django_db
def test_the_cap_is_a_setting_per_platform_and_per_minute(settings, tiktok_account):
    settings.WEBHOOK_UNVERIFIED_PER_MINUTE = 3
    body = b"{}"
    with time_machine.travel(MID_MINUTE, tick=False):
        assert [post_tiktok(body, "t=1,s=00").status_code for _ in range(5)] == [400] * 3 + [
            429
        ] * 2
        # The other platform has its own allowance.
        assert post_signed(IG_DEAUTHORIZE_URL, "garbage").status_code == 400
    with time_machine.travel(MID_MINUTE + timedelta(minutes=1), tick=False):
        assert post_tiktok(body, "t=1,s=00").status_code == 400
    counts = {p: WebhookEvent.objects.filter(platform=p).count() for p in ("tiktok", "instagram")}
    assert counts == {"tiktok": 4, "instagram": 1}


@pytest.mark.django_db
def test_a_capped_answer_still_says_what_is_wrong(settings, tiktok_account):
    settings.WEBHOOK_UNVERIFIED_PER_MINUTE = 0
    response = post_tiktok(b"{}", None)
    assert response.status_code == 429
    assert response.content.startswith(b"invalid signature (missing);")
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_capped_answer_is_plain_text_saying_when_the_next_minute_starts(settings, tiktok_account):
    settings.WEBHOOK_UNVERIFIED_PER_MINUTE = 0
    with time_machine.travel(MID_MINUTE, tick=False):  # 30 s into the minute
        response = post_tiktok(b"{}", None)
    assert response.status_code == 429
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Retry-After"] == "30"
    assert b"<html" not in response.content.lower()


@pytest.mark.django_db
def test_racing_processes_cannot_overshoot_the_cap(settings, tiktok_account):
    """Another process took every slot of this minute after our count (simulated by rows the
    count does not see): the unique slots refuse ours, so nothing past the cap is stored."""
    settings.WEBHOOK_UNVERIFIED_PER_MINUTE = 3
    minute = int(MID_MINUTE.timestamp()) // 60
    for slot in (1, 2, 3):
        WebhookEvent.objects.create(
            platform="tiktok",
            kind="tiktok_webhook",
            rate_slot=f"{minute}:{slot}",
            received_at=MID_MINUTE - timedelta(hours=1),
        )
    with time_machine.travel(MID_MINUTE, tick=False):
        assert post_tiktok(b"{}", None).status_code == 429
    assert WebhookEvent.objects.count() == 3


@pytest.mark.django_db
def test_verified_deliveries_are_never_capped(settings, tiktok_account):
    settings.WEBHOOK_UNVERIFIED_PER_MINUTE = 1
    with time_machine.travel(MID_MINUTE, tick=True):
        assert post_tiktok(b"{}", None).status_code == 400
        assert post_tiktok(b"{}", None).status_code == 429
        body = tiktok_body(tiktok_account.external_id)
        assert post_tiktok(body, tiktok_signature(body)).status_code == 200
    assert state_of(tiktok_account) == State.REVOKED_ON_PLATFORM
