"""The sandbox's real signed deliveries, captured by a real HTTP receiver and checked with
Switchboard's verification code (TikTok-Signature, PLATFORMS §1.9; Meta signed_request, §2.11).

Forged, stale, replayed and malformed variants are derived from the captured bytes; replays are
also posted, over real HTTP, to Switchboard's own receivers on the live server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import requests
import time_machine
from django.conf import settings
from django.utils import timezone

from apps.clients.models import Client
from apps.connections.models import Credential, LinkedAccount, State, StateChange, WebhookEvent
from apps.connections.services.webhooks import IGNORED_BEFORE_GRANT
from apps.emulator import webhooks as emulator_webhooks
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
from tests.connections.webhook_helpers import with_other_low_bits
from tests.contract.conftest import MODERATION_S, PROCESSING_S
from tests.contract.helpers import IG_DATA_DELETION, IG_DEAUTHORIZE, TT_WEBHOOK, Captured
from tests.factories import CredentialFactory, LinkedAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def only(receiver, path: str) -> Captured:
    captured = receiver.received(path)
    assert len(captured) == 1, captured
    assert captured[0].method == "POST"
    return captured[0]


def verify(delivery: Captured, **kwargs) -> tw.VerifiedSignature:
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

    timestamp = verify(delivery).timestamp
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
        tw.verify_signature(header=delivery.header(tw.SIGNATURE_HEADER), raw_body=tampered)
    assert body_error.value.reason is tw.SignatureFailure.FORGED
    with pytest.raises(tw.WebhookSignatureError) as key_error:
        verify(delivery, secret="someone-elses-secret")
    assert key_error.value.reason is tw.SignatureFailure.FORGED
    header = delivery.header(tw.SIGNATURE_HEADER)
    t_part, _ = header.split(",")
    with pytest.raises(tw.WebhookSignatureError) as shifted:
        # Same signature, a different timestamp: the MAC covers t, so this is a forgery.
        tw.verify_signature(
            header=header.replace(t_part, f"t={int(t_part[2:]) + 1}"),
            raw_body=delivery.body,
        )
    assert shifted.value.reason is tw.SignatureFailure.FORGED
    for broken in ("", "t=abc,s=00", "s=deadbeef"):
        with pytest.raises(tw.WebhookSignatureError):
            tw.verify_signature(header=broken, raw_body=delivery.body)


def test_a_stale_tiktok_delivery_is_refused(sandbox, connect_tiktok, receiver):
    connect_tiktok()
    sandbox.action("tt-public", "remove_app", reason=2)
    delivery = only(receiver, TT_WEBHOOK)
    timestamp = verify(delivery).timestamp
    with pytest.raises(tw.WebhookSignatureError) as error:
        verify(delivery, now=timestamp + tw.TOLERANCE_S + 1)
    assert error.value.reason is tw.SignatureFailure.STALE


def test_a_replayed_tiktok_delivery_is_processed_once_by_our_receiver(
    sandbox, connect_tiktok, receiver, live_server, client_obj
):
    tokens = connect_tiktok()
    account = linked(client_obj, "tiktok", tokens.account_id)
    sandbox.action("tt-public", "remove_app", reason=3)
    delivery = only(receiver, TT_WEBHOOK)
    # The signature alone cannot tell a re-send: the receiver's database remembers it.
    assert verify(delivery) == verify(delivery)

    first = deliver(live_server, TT_WEBHOOK, delivery)
    replay = deliver(live_server, TT_WEBHOOK, delivery)
    assert (first.status_code, replay.status_code) == (200, 200)
    assert WebhookEvent.objects.filter(verified=True).count() == 1
    assert StateChange.objects.filter(account=account).count() == 1
    assert state_of(account) == State.REVOKED_ON_PLATFORM


def test_a_tiktok_removal_retried_after_a_reconnect_changes_nothing(
    sandbox, connect_tiktok, receiver, live_server, client_obj
):
    """The removal never reached us; TikTok retries it (re-signed) after the user connected
    again: the signature is good, the event is older than the grant, nothing changes."""
    tokens = connect_tiktok()
    account = linked(client_obj, "tiktok", tokens.account_id)
    sandbox.action("tt-public", "remove_app", reason=1)
    delivery = only(receiver, TT_WEBHOOK)
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        regrant(account)
        response = deliver(live_server, TT_WEBHOOK, delivery, resigned=True)
    assert response.status_code == 200
    assert WebhookEvent.objects.get().result == IGNORED_BEFORE_GRANT
    assert state_of(account) == State.ACTIVE


def test_revoke_token_sends_authorization_removed_with_reason_5(sandbox, connect_tiktok, receiver):
    tokens = connect_tiktok()
    tt.revoke_token(access_token=tokens.access_token)
    delivery = only(receiver, TT_WEBHOOK)
    verify(delivery)
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
    for delivery in receiver.received(TT_WEBHOOK):
        verify(delivery)
        events.append(tw.parse_event(delivery.body))
    assert [(e.event, e.publish_id, e.publish_type, e.reason) for e in events] == [
        (
            tw.POST_PUBLISH_FAILED,
            cancelled.publish_id,
            tw.PublishType.DIRECT_PUBLISH,
            "publish_cancelled",
        ),
        (tw.POST_PUBLISH_COMPLETE, done.publish_id, tw.PublishType.DIRECT_PUBLISH, ""),
    ]
    # SELF_ONLY is never publicly available, however long moderation is given (§1.9).
    sandbox.advance(MODERATION_S + 3600)
    tt.fetch_status(access_token=tokens.access_token, publish_id=done.publish_id)
    sandbox.state()
    assert len(receiver.received(TT_WEBHOOK)) == 2


def test_a_public_post_is_announced_with_its_post_id_after_moderation(
    sandbox, connect_tiktok, receiver, video_bytes
):
    tokens = connect_tiktok()
    post = PostInfo(title="public hooks", privacy_level="PUBLIC_TO_EVERYONE")
    init = tt.init_file_post(
        access_token=tokens.access_token, post_info=post, video_size=len(video_bytes)
    )
    upload.upload_video(upload_url=init.upload_url, source=io.BytesIO(video_bytes), plan=init.plan)
    sandbox.advance(PROCESSING_S)
    tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    assert [tw.parse_event(d.body).event for d in receiver.received(TT_WEBHOOK)] == [
        tw.POST_PUBLISH_COMPLETE
    ]

    sandbox.advance(MODERATION_S)
    status = tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    tt.fetch_status(access_token=tokens.access_token, publish_id=init.publish_id)
    sandbox.state()

    deliveries = receiver.received(TT_WEBHOOK)
    assert len(deliveries) == 2  # sent once, however often it is read
    verify(deliveries[1])
    event = tw.parse_event(deliveries[1].body)
    assert event.event == tw.POST_PUBLISH_PUBLICLY_AVAILABLE
    assert (event.publish_id, event.publish_type) == (
        init.publish_id,
        tw.PublishType.DIRECT_PUBLISH,
    )
    assert event.user_openid == tokens.account_id
    assert event.post_id == sandbox.ledger(platform="tiktok")[0]["post_id"]
    assert status.public_post_ids == (event.post_id,)


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


META_SECRET = "meta-parent-app-secret"


@pytest.mark.parametrize("signing", ["instagram", "meta"])
def test_callbacks_signed_with_either_configured_secret_are_verified(
    sandbox, connect_instagram, receiver, settings, signing
):
    """PLATFORMS §2.11: the Instagram App Secret, or the parent Meta app's (META_APP_SECRET)."""
    settings.META_APP_SECRET = META_SECRET
    sandbox.configure(instagram_signing_secret=signing)
    connect_instagram()
    sandbox.action("ig-business", "remove_app")
    value = signed_request_of(only(receiver, IG_DEAUTHORIZE))

    parsed = parse_signed_request(signed_request=value)
    assert parsed.user_id == sandbox.account("ig-business")["app_scoped_id"]
    # A third secret is never accepted.
    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=resign(parsed.payload, "a-third-secret"))
    assert caught.value.reason is SignedRequestFailure.BAD_SIGNATURE
    # Without META_APP_SECRET only the Instagram App Secret counts.
    settings.META_APP_SECRET = ""
    if signing == "instagram":
        assert parse_signed_request(signed_request=value).user_id == parsed.user_id
    else:
        with pytest.raises(SignedRequestError) as caught:
            parse_signed_request(signed_request=value)
        assert caught.value.reason is SignedRequestFailure.BAD_SIGNATURE


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
        "not JSON": (resign_raw(b"not json"), "malformed_payload"),
        **{
            f"signature altered in its unused bits ({n})": (variant, "malformed")
            for n, variant in enumerate(with_other_low_bits(real))
        },
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


def test_a_captured_deauthorize_replayed_to_our_receiver_changes_nothing_after_a_reconnect(
    sandbox, connect_instagram, receiver, live_server, client_obj
):
    connect_instagram()
    app_scoped_id = sandbox.account("ig-business")["app_scoped_id"]
    account = linked(client_obj, "instagram", app_scoped_id)
    sandbox.action("ig-business", "remove_app")
    delivery = only(receiver, IG_DEAUTHORIZE)
    real = signed_request_of(delivery)

    assert deliver(live_server, IG_DEAUTHORIZE, delivery).status_code == 200
    assert state_of(account) == State.REVOKED_ON_PLATFORM
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        regrant(account)
    assert deliver(live_server, IG_DEAUTHORIZE, delivery).status_code == 200  # duplicate
    for variant in with_other_low_bits(real):
        response = requests.post(
            live_server.url + IG_DEAUTHORIZE, data={FORM_FIELD: variant}, timeout=10
        )
        assert response.status_code == 400
        assert response.text.startswith("malformed signed_request")
    assert state_of(account) == State.ACTIVE
    assert Credential.objects.filter(account=account).exists()


def test_a_data_deletion_held_back_past_a_reconnect_keeps_the_new_grant(
    sandbox, connect_instagram, receiver, live_server, client_obj
):
    connect_instagram()
    account = linked(client_obj, "instagram", sandbox.account("ig-business")["app_scoped_id"])
    sandbox.action("ig-business", "request_data_deletion")
    delivery = only(receiver, IG_DATA_DELETION)
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        regrant(account)
        response = deliver(live_server, IG_DATA_DELETION, delivery)
    assert response.status_code == 200
    assert set(response.json()) == {"url", "confirmation_code"}
    assert WebhookEvent.objects.get().result == IGNORED_BEFORE_GRANT
    account.refresh_from_db()
    assert account.state == State.ACTIVE and account.display_name == "Brand"
    assert Credential.objects.filter(account=account).exists()


# --- Helpers for the receiver tests -----------------------------------------------------------


def linked(client: Client, platform: str, platform_id: str) -> LinkedAccount:
    """Our record of the account the sandbox just authorized, granted now, with a credential."""
    account = LinkedAccountFactory(
        client=client,
        platform=platform,
        external_id=platform_id,
        app_scoped_id=platform_id if platform == "instagram" else "",
        handle="brand",
        display_name="Brand",
        granted_at=timezone.now(),
    )
    CredentialFactory(
        account=account,
        access="act.contract",
        expires_in=3600,
        refresh=None,
        refresh_expires_in=None,
    )
    return account


def regrant(account: LinkedAccount) -> None:
    """What a reconnect does to the account (the OAuth flow itself is tested elsewhere)."""
    LinkedAccount.objects.filter(pk=account.pk).update(
        state=State.ACTIVE, granted_at=timezone.now()
    )


def deliver(live_server, path: str, delivery: Captured, *, resigned: bool = False):
    """POST a captured delivery to our receiver byte for byte; `resigned` signs it afresh, as
    TikTok does for each retry."""
    headers = {"Content-Type": delivery.header("Content-Type") or ""}
    if signature := delivery.header(tw.SIGNATURE_HEADER):
        headers[tw.SIGNATURE_HEADER] = signature
    if resigned:
        headers[tw.SIGNATURE_HEADER] = emulator_webhooks.tiktok_signature(
            delivery.body.decode(), secret=settings.TIKTOK_CLIENT_SECRET, timestamp=int(time.time())
        )
    return requests.post(live_server.url + path, data=delivery.body, headers=headers, timeout=10)


def state_of(account: LinkedAccount) -> str:
    return LinkedAccount.objects.get(pk=account.pk).state
