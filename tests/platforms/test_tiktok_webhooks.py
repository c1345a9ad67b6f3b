"""TikTok webhook signatures: valid, forged, stale; the replay key; and event parsing."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from apps.platforms.tiktok.webhooks import (
    AUTHORIZATION_REMOVED,
    POST_PUBLISH_COMPLETE,
    POST_PUBLISH_PUBLICLY_AVAILABLE,
    PublishType,
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
    assert (event.reason, event.publish_id, event.publish_type) == ("", "", None)


def _posting(event: str, content: dict[str, object]) -> bytes:
    return json.dumps(
        {
            "client_key": "ck-test",
            "event": event,
            "create_time": NOW,
            "user_openid": "open-1",
            "content": json.dumps(content),
        }
    ).encode()


@pytest.mark.parametrize("post_id", ["7612345678901234567", 7612345678901234567])
def test_it_reads_the_post_id_of_a_publicly_available_post(post_id: object) -> None:
    # §1.9's captured payload carries the id as a string; an int64 number reads the same.
    body = _posting(
        POST_PUBLISH_PUBLICLY_AVAILABLE,
        {"publish_id": "v_pub_file~v2-1.76", "publish_type": "DIRECT_PUBLISH", "post_id": post_id},
    )

    event = parse_event(body)

    assert event.event == POST_PUBLISH_PUBLICLY_AVAILABLE
    assert event.publish_id == "v_pub_file~v2-1.76"
    assert event.publish_type is PublishType.DIRECT_PUBLISH
    assert event.post_id == "7612345678901234567"
    assert (event.reason, event.fail_reason, event.removal_reason) == ("", "", None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("DIRECT_PUBLISH", PublishType.DIRECT_PUBLISH),
        ("INBOX_SHARE", PublishType.INBOX_SHARE),
        ("DIRECT_POST", None),  # not a value §1.9 names
        (None, None),
        (3, None),
    ],
)
def test_it_types_the_publish_type(raw: object, expected: PublishType | None) -> None:
    content: dict[str, object] = {"publish_id": "p"}
    if raw is not None:
        content["publish_type"] = raw

    event = parse_event(_posting(POST_PUBLISH_COMPLETE, content))

    assert event.publish_type is expected
    assert event.content == content  # the raw value stays readable


def test_it_ignores_ids_that_are_not_text_or_numbers() -> None:
    event = parse_event(
        _posting(POST_PUBLISH_COMPLETE, {"publish_id": {"x": 1}, "post_id": True, "reason": []})
    )

    assert (event.publish_id, event.post_id, event.reason) == ("", "", "")


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
    assert event.reason == "spam_risk_text"


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
