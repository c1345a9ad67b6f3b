"""The sandbox's real signed deliveries, captured by a real HTTP receiver and checked with
Switchboard's verification code (TikTok-Signature, PLATFORMS §1.9; Meta signed_request, §2.11).

Forged, stale, replayed and malformed variants are derived from the captured bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from urllib.parse import parse_qs

import pytest
from django.conf import settings

from apps.platforms.instagram import client as ig
from apps.platforms.instagram.signed_request import (
    FORM_FIELD,
    SignedRequestError,
    SignedRequestFailure,
    parse_signed_request,
)
from apps.platforms.tiktok import client as tt
from apps.platforms.tiktok import upload
from apps.platforms.tiktok import webhooks as tw
from apps.platforms.tiktok.types import PostInfo
from tests.contract.conftest import PROCESSING_S
from tests.contract.helpers import IG_DATA_DELETION, IG_DEAUTHORIZE, TT_WEBHOOK, Captured

pytestmark = pytest.mark.django_db(transaction=True)


def memory() -> object:
    seen: set[str] = set()

    def check(signature: str) -> bool:
        if signature in seen:
            return True
        seen.add(signature)
        return False

    return check


def only(receiver, path: str) -> Captured:
    captured = receiver.received(path)
    assert len(captured) == 1, captured
    assert captured[0].method == "POST"
    return captured[0]


def verify(delivery: Captured, **kwargs) -> int:
    return tw.verify_signature(
        header=delivery.header(tw.SIGNATURE_HEADER), raw_body=delivery.body, **kwargs
    )


def signed_request_of(delivery: Captured) -> str:
    assert delivery.header("Content-Type") == "application/x-www-form-urlencoded"
    return parse_qs(delivery.body.decode())[FORM_FIELD][0]


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def resign(payload: dict, secret: str) -> str:
    encoded = b64url(json.dumps(payload).encode())
    sig = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).digest()
    return b64url(sig) + "." + encoded


# --- TikTok ---------------------------------------------------------------------------------


def test_remove_app_sends_a_signed_authorization_removed_we_verify(
    sandbox, connect_tiktok, receiver
):
    tokens = connect_tiktok()
    sandbox.action("tt-public", "remove_app", reason=1)
    delivery = only(receiver, TT_WEBHOOK)
    assert delivery.header("Content-Type") == "application/json"

    timestamp = verify(delivery, seen=memory())
    event = tw.parse_event(delivery.body)
    assert event.event == tw.AUTHORIZATION_REMOVED
    assert event.removal_reason == 1
    assert event.user_openid == tokens.account_id
    assert event.client_key == settings.TIKTOK_CLIENT_KEY
    assert abs(event.create_time - timestamp) <= 1
    # The sandbox recorded our receiver's answer.
    assert [(w["url"], w["status_code"]) for w in sandbox.webhooks()] == [
        (receiver.url(TT_WEBHOOK), 200)
    ]


def test_a_forged_tiktok_delivery_is_refused(sandbox, connect_tiktok, receiver):
    connect_tiktok()
    sandbox.action("tt-public", "remove_app", reason=4)
    delivery = only(receiver, TT_WEBHOOK)
    tampered = delivery.body.replace(b'\\"reason\\": 4', b'\\"reason\\": 1')
    assert tampered != delivery.body
    with pytest.raises(tw.WebhookSignatureError) as body_error:
        tw.verify_signature(
            header=delivery.header(tw.SIGNATURE_HEADER), raw_body=tampered, seen=memory()
        )
    assert body_error.value.reason is tw.SignatureFailure.FORGED
    with pytest.raises(tw.WebhookSignatureError) as key_error:
        verify(delivery, secret="someone-elses-secret", seen=memory())
    assert key_error.value.reason is tw.SignatureFailure.FORGED
    header = delivery.header(tw.SIGNATURE_HEADER)
    t_part, _ = header.split(",")
    with pytest.raises(tw.WebhookSignatureError) as shifted:
        # Same signature, a different timestamp: the MAC covers t, so this is a forgery.
        tw.verify_signature(
            header=header.replace(t_part, f"t={int(t_part[2:]) + 1}"),
            raw_body=delivery.body,
            seen=memory(),
        )
    assert shifted.value.reason is tw.SignatureFailure.FORGED
    for broken in ("", "t=abc,s=00", "s=deadbeef"):
        with pytest.raises(tw.WebhookSignatureError):
            tw.verify_signature(header=broken, raw_body=delivery.body, seen=memory())


def test_a_stale_tiktok_delivery_is_refused(sandbox, connect_tiktok, receiver):
    connect_tiktok()
    sandbox.action("tt-public", "remove_app", reason=2)
    delivery = only(receiver, TT_WEBHOOK)
    timestamp = verify(delivery, seen=memory())
    with pytest.raises(tw.WebhookSignatureError) as error:
        verify(delivery, now=timestamp + tw.TOLERANCE_S + 1, seen=memory())
    assert error.value.reason is tw.SignatureFailure.STALE


def test_a_replayed_tiktok_delivery_is_refused(sandbox, connect_tiktok, receiver):
    connect_tiktok()
    sandbox.action("tt-public", "remove_app", reason=3)
    delivery = only(receiver, TT_WEBHOOK)
    verify(delivery)  # the production replay memory (Django's cache)
    with pytest.raises(tw.WebhookSignatureError) as error:
        verify(delivery)
    assert error.value.reason is tw.SignatureFailure.REPLAYED


def test_revoke_token_sends_authorization_removed_with_reason_5(sandbox, connect_tiktok, receiver):
    tokens = connect_tiktok()
    tt.revoke_token(access_token=tokens.access_token)
    delivery = only(receiver, TT_WEBHOOK)
    verify(delivery, seen=memory())
    event = tw.parse_event(delivery.body)
    assert (event.event, event.removal_reason, event.user_openid) == (
        tw.AUTHORIZATION_REMOVED,
        5,
        tokens.account_id,
    )


def test_posting_events_arrive_signed(sandbox, connect_tiktok, receiver, video_bytes):
    tokens = connect_tiktok()
    post = PostInfo(title="hooks", privacy_level="SELF_ONLY")
    done = tt.init_file_post(
        access_token=tokens.access_token, post_info=post, video_size=len(video_bytes)
    )
    upload.upload_video(upload_url=done.upload_url, source=io.BytesIO(video_bytes), plan=done.plan)
    cancelled = tt.init_file_post(
        access_token=tokens.access_token, post_info=post, video_size=len(video_bytes)
    )
    tt.cancel_publish(access_token=tokens.access_token, publish_id=cancelled.publish_id)
    sandbox.advance(PROCESSING_S)
    tt.fetch_status(access_token=tokens.access_token, publish_id=done.publish_id)

    events = []
    seen = memory()
    for delivery in receiver.received(TT_WEBHOOK):
        verify(delivery, seen=seen)
        events.append(tw.parse_event(delivery.body))
    assert [(e.event, e.publish_id, e.fail_reason) for e in events] == [
        (tw.POST_PUBLISH_FAILED, cancelled.publish_id, "publish_cancelled"),
        (tw.POST_PUBLISH_COMPLETE, done.publish_id, ""),
    ]


# --- Instagram ------------------------------------------------------------------------------


def test_remove_app_sends_a_deauthorize_callback_we_verify(sandbox, connect_instagram, receiver):
    connect_instagram()
    sandbox.action("ig-business", "remove_app")
    delivery = only(receiver, IG_DEAUTHORIZE)
    request = parse_signed_request(signed_request=signed_request_of(delivery))
    assert request.user_id == sandbox.account("ig-business")["app_scoped_id"]
    assert request.algorithm == "HMAC-SHA256"
    assert request.issued_at and request.expires and request.expires > request.issued_at
    assert receiver.received(IG_DATA_DELETION) == []


def test_data_deletion_request_sends_a_callback_we_verify(sandbox, connect_instagram, receiver):
    connect_instagram("ig-creator")
    sandbox.action("ig-creator", "request_data_deletion")
    delivery = only(receiver, IG_DATA_DELETION)
    request = parse_signed_request(signed_request=signed_request_of(delivery))
    assert request.user_id == sandbox.account("ig-creator")["app_scoped_id"]
    # The sandbox kept our {url, confirmation_code} reply (§2.11).
    reply = json.loads(sandbox.webhooks()[0]["response_body"])
    assert set(reply) == {"url", "confirmation_code"}


def test_a_tampered_signed_request_is_refused(sandbox, connect_instagram, receiver):
    connect_instagram()
    sandbox.action("ig-business", "remove_app")
    real = signed_request_of(only(receiver, IG_DEAUTHORIZE))
    signature, payload = real.split(".", 1)
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    other_user = b64url(json.dumps({**decoded, "user_id": "1"}).encode())
    wrong_secret = resign(decoded, "not-the-app-secret")
    cases = {
        "bad signature (payload swapped)": (f"{signature}.{other_user}", "bad_signature"),
        "bad signature (wrong secret)": (wrong_secret, "bad_signature"),
        "wrong algorithm": (
            resign({**decoded, "algorithm": "HMAC-SHA1"}, settings.INSTAGRAM_APP_SECRET),
            "wrong_algorithm",
        ),
        "malformed base64 signature": (f"{signature[:-2]}!*.{payload}", "malformed"),
        "malformed base64 payload": (f"{signature}.{payload[:5]}$%{payload[5:]}", "malformed"),
        "no separator": (signature + payload, "malformed"),
        "not JSON": (resign_raw(b"not json"), "malformed"),
    }
    for name, (value, reason) in cases.items():
        with pytest.raises(SignedRequestError) as error:
            parse_signed_request(signed_request=value)
        assert error.value.reason is SignedRequestFailure(reason), name
    with pytest.raises(SignedRequestError) as error:
        parse_signed_request(signed_request=real, secret="another-app")
    assert error.value.reason is SignedRequestFailure.BAD_SIGNATURE


def resign_raw(raw: bytes) -> str:
    encoded = b64url(raw)
    key = settings.INSTAGRAM_APP_SECRET.encode()
    return b64url(hmac.new(key, encoded.encode(), hashlib.sha256).digest()) + "." + encoded


def test_delete_permissions_sends_no_callback(sandbox, connect_instagram, receiver):
    token = connect_instagram().access_token
    assert ig.delete_permissions(access_token=token)
    assert receiver.requests == []
    assert sandbox.webhooks() == []
