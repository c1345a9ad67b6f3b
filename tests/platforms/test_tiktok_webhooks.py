"""TikTok webhook signatures: valid, forged, stale, replayed; and event parsing."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.core.cache import cache

from apps.platforms.tiktok.webhooks import (
    AUTHORIZATION_REMOVED,
    SignatureFailure,
    WebhookPayloadError,
    WebhookSignatureError,
    parse_event,
    verify_signature,
)

NOW = 1_800_000_000
SECRET = "cs-test"  # the client secret pinned by conftest
BODY = json.dumps(
    {
        "client_key": "ck-test",
        "event": "authorization.removed",
        "create_time": NOW,
        "user_openid": "open-1",
        "content": json.dumps({"reason": 1}),
    }
).encode()


def _header(body: bytes = BODY, t: int = NOW, secret: str = SECRET) -> str:
    sig = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},s={sig}"


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def test_it_accepts_a_valid_signature() -> None:
    assert verify_signature(header=_header(), raw_body=BODY, now=NOW + 10) == NOW


def test_it_uses_the_client_secret_from_settings(settings: object) -> None:
    settings.TIKTOK_CLIENT_SECRET = "rotated"  # type: ignore[attr-defined]

    with pytest.raises(WebhookSignatureError):
        verify_signature(header=_header(), raw_body=BODY, now=NOW)
    assert verify_signature(header=_header(secret="rotated"), raw_body=BODY, now=NOW) == NOW


def test_it_refuses_a_forged_signature() -> None:
    with pytest.raises(WebhookSignatureError) as caught:
        verify_signature(header=_header(secret="not-the-secret"), raw_body=BODY, now=NOW)

    assert caught.value.reason is SignatureFailure.FORGED


def test_it_refuses_a_tampered_body() -> None:
    with pytest.raises(WebhookSignatureError) as caught:
        verify_signature(header=_header(), raw_body=BODY.replace(b"open-1", b"open-2"), now=NOW)

    assert caught.value.reason is SignatureFailure.FORGED


def test_it_refuses_a_moved_timestamp() -> None:
    header = _header().replace(f"t={NOW}", f"t={NOW + 5}")

    with pytest.raises(WebhookSignatureError) as caught:
        verify_signature(header=header, raw_body=BODY, now=NOW)

    assert caught.value.reason is SignatureFailure.FORGED


@pytest.mark.parametrize("skew", [301, -301, 86_400])
def test_it_refuses_a_stale_signature(skew: int) -> None:
    with pytest.raises(WebhookSignatureError) as caught:
        verify_signature(header=_header(), raw_body=BODY, now=NOW + skew)

    assert caught.value.reason is SignatureFailure.STALE


def test_it_accepts_a_signature_at_the_edge_of_the_tolerance() -> None:
    assert verify_signature(header=_header(), raw_body=BODY, now=NOW + 300) == NOW


def test_it_refuses_a_replayed_signature_with_the_cache_default() -> None:
    verify_signature(header=_header(), raw_body=BODY, now=NOW)

    with pytest.raises(WebhookSignatureError) as caught:
        verify_signature(header=_header(), raw_body=BODY, now=NOW + 1)

    assert caught.value.reason is SignatureFailure.REPLAYED


def test_it_uses_a_pluggable_seen_check() -> None:
    seen: set[str] = set()

    def check(signature: str) -> bool:
        if signature in seen:
            return True
        seen.add(signature)
        return False

    verify_signature(header=_header(), raw_body=BODY, now=NOW, seen=check)
    with pytest.raises(WebhookSignatureError) as caught:
        verify_signature(header=_header(), raw_body=BODY, now=NOW, seen=check)

    assert caught.value.reason is SignatureFailure.REPLAYED
    assert len(seen) == 1


def test_it_does_not_remember_a_forged_signature() -> None:
    calls: list[str] = []

    with pytest.raises(WebhookSignatureError):
        verify_signature(
            header=_header(secret="x"),
            raw_body=BODY,
            now=NOW,
            seen=lambda s: calls.append(s) or False,
        )

    assert calls == []


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, SignatureFailure.MISSING),
        ("", SignatureFailure.MISSING),
        ("s=abc", SignatureFailure.MALFORMED),
        ("t=abc,s=def", SignatureFailure.MALFORMED),
        (f"t={NOW}", SignatureFailure.MALFORMED),
        ("garbage", SignatureFailure.MALFORMED),
    ],
)
def test_it_refuses_a_missing_or_malformed_header(
    header: str | None, reason: SignatureFailure
) -> None:
    with pytest.raises(WebhookSignatureError) as caught:
        verify_signature(header=header, raw_body=BODY, now=NOW)

    assert caught.value.reason is reason


def test_it_parses_an_authorization_removed_event() -> None:
    event = parse_event(BODY)

    assert event.event == AUTHORIZATION_REMOVED
    assert (event.user_openid, event.client_key, event.create_time) == ("open-1", "ck-test", NOW)
    assert event.removal_reason == 1


def test_it_parses_a_publish_failure_event() -> None:
    body = json.dumps(
        {
            "event": "post.publish.failed",
            "create_time": NOW,
            "user_openid": "o",
            "content": json.dumps(
                {"publish_id": "v_pub_file~1", "reason": "spam_risk_text", "publish_type": "DIRECT"}
            ),
        }
    ).encode()

    event = parse_event(body)

    assert (event.publish_id, event.fail_reason, event.removal_reason) == (
        "v_pub_file~1",
        "spam_risk_text",
        None,
    )


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"content": "{}"}', b'{"event": "x", "content": "nope"}'],
)
def test_it_refuses_an_unreadable_event(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError):
        parse_event(body)
