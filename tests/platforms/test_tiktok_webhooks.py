"""TikTok webhook signatures: valid, forged, stale; the replay key; and event parsing."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

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


def test_it_accepts_a_valid_signature() -> None:
    assert verify_signature(header=_header(), raw_body=BODY, now=NOW + 10).timestamp == NOW


def test_it_uses_the_client_secret_from_settings(settings: object) -> None:
    settings.TIKTOK_CLIENT_SECRET = "rotated"  # type: ignore[attr-defined]

    with pytest.raises(WebhookSignatureError):
        verify_signature(header=_header(), raw_body=BODY, now=NOW)
    assert (
        verify_signature(header=_header(secret="rotated"), raw_body=BODY, now=NOW).timestamp == NOW
    )


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
    assert verify_signature(header=_header(), raw_body=BODY, now=NOW + 300).timestamp == NOW


def test_it_keeps_no_memory_and_gives_a_re_send_the_same_replay_key() -> None:
    """Replays are the receiver's to refuse (it remembers keys in its database)."""
    first = verify_signature(header=_header(), raw_body=BODY, now=NOW)
    again = verify_signature(header=_header(), raw_body=BODY, now=NOW + 1)

    assert first == again
    assert len(first.replay_key) == 64


def test_the_replay_key_ignores_how_the_header_spells_the_same_signature() -> None:
    header = _header()
    t_part, s_part = header.split(",")
    respelled = f" s={s_part[2:].upper()} , t=0{t_part[2:]} "

    assert (
        verify_signature(header=respelled, raw_body=BODY, now=NOW).replay_key
        == verify_signature(header=header, raw_body=BODY, now=NOW).replay_key
    )


def test_another_signature_of_the_same_body_has_another_replay_key() -> None:
    """TikTok re-signs each retry: the receiver dedupes those by body, not by this key."""
    first = verify_signature(header=_header(), raw_body=BODY, now=NOW)
    retry = verify_signature(header=_header(t=NOW + 60), raw_body=BODY, now=NOW + 60)

    assert first.replay_key != retry.replay_key


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, SignatureFailure.MISSING),
        ("", SignatureFailure.MISSING),
        ("s=abc", SignatureFailure.MALFORMED),
        ("t=abc,s=def", SignatureFailure.MALFORMED),
        (f"t={NOW}", SignatureFailure.MALFORMED),
        ("garbage", SignatureFailure.MALFORMED),
        ("t=\u00b2,s=def", SignatureFailure.MALFORMED),  # a "digit" int() refuses
        (f"t={'9' * 5000},s=def", SignatureFailure.MALFORMED),  # past int()'s digit limit
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
    ("body", "problem"),
    [
        (b"not json", "body is not JSON"),
        (b"[]", "body is not a JSON object"),
        (b'{"content": "{}"}', "body has no event"),
        (b'{"event": ["x"]}', "body has no event"),
        (b'{"event": "x", "content": "nope"}', "content is not JSON"),
        (b'{"event": "x", "content": "[]"}', "content is not a JSON object"),
        (b'{"event": "x", "create_time": "later"}', "create_time is not a number"),
        (b'{"event": "x", "create_time": Infinity}', "create_time is not a number"),
    ],
)
def test_it_refuses_an_unreadable_event_saying_why(body: bytes, problem: str) -> None:
    with pytest.raises(WebhookPayloadError) as caught:
        parse_event(body)

    assert str(caught.value) == problem
