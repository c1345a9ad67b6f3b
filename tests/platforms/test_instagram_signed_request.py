"""Meta signed_request verification for the deauthorize and data-deletion callbacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from apps.platforms.instagram.signed_request import (
    SignedRequestError,
    SignedRequestFailure,
    parse_signed_request,
)

SECRET = "ig-secret"  # pinned by conftest
PAYLOAD = {
    "algorithm": "HMAC-SHA256",
    "expires": 1291840400,
    "issued_at": 1291836800,
    "user_id": "218471",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _signed(payload: Any = PAYLOAD, secret: str = SECRET) -> str:
    encoded = _b64(json.dumps(payload).encode())
    sig = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).digest()
    return f"{_b64(sig)}.{encoded}"


def test_it_accepts_a_valid_signed_request() -> None:
    parsed = parse_signed_request(signed_request=_signed())

    assert parsed.user_id == "218471"
    assert (parsed.issued_at, parsed.expires) == (1291836800, 1291840400)
    assert parsed.payload == PAYLOAD


def test_it_turns_a_numeric_user_id_into_a_string() -> None:
    parsed = parse_signed_request(signed_request=_signed({**PAYLOAD, "user_id": 218471}))

    assert parsed.user_id == "218471"


def test_it_accepts_an_explicit_secret() -> None:
    parsed = parse_signed_request(signed_request=_signed(secret="fb-secret"), secret="fb-secret")

    assert parsed.user_id == "218471"


def test_it_refuses_a_bad_signature() -> None:
    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=_signed(secret="wrong"))

    assert caught.value.reason is SignedRequestFailure.BAD_SIGNATURE


def test_it_refuses_a_tampered_payload() -> None:
    sig, _ = _signed().split(".")
    forged = _b64(json.dumps({**PAYLOAD, "user_id": "999"}).encode())

    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=f"{sig}.{forged}")

    assert caught.value.reason is SignedRequestFailure.BAD_SIGNATURE


@pytest.mark.parametrize("algorithm", ["HMAC-SHA1", "none", ""])
def test_it_refuses_a_wrong_algorithm(algorithm: str) -> None:
    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=_signed({**PAYLOAD, "algorithm": algorithm}))

    assert caught.value.reason is SignedRequestFailure.WRONG_ALGORITHM


def test_it_refuses_a_missing_algorithm() -> None:
    payload = {k: v for k, v in PAYLOAD.items() if k != "algorithm"}

    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=_signed(payload))

    assert caught.value.reason is SignedRequestFailure.WRONG_ALGORITHM


@pytest.mark.parametrize(
    "value",
    [
        "",
        "no-dot-at-all",
        ".payload-only",
        "sig-only.",
        "!!!not base64!!!.eyJ9",
        "abc.e",  # a single base64 character cannot decode
    ],
)
def test_it_refuses_malformed_input(value: str) -> None:
    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=value)

    assert caught.value.reason is SignedRequestFailure.MALFORMED


def test_it_refuses_malformed_base64_in_a_correctly_signed_payload() -> None:
    encoded = "eyJ@bad"
    sig = hmac.new(SECRET.encode(), encoded.encode(), hashlib.sha256).digest()

    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=f"{_b64(sig)}.{encoded}")

    assert caught.value.reason is SignedRequestFailure.MALFORMED


@pytest.mark.parametrize("payload", [["not", "an", "object"], {"algorithm": "HMAC-SHA256"}])
def test_it_refuses_a_signed_payload_without_a_user(payload: Any) -> None:
    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=_signed(payload))

    assert caught.value.reason is SignedRequestFailure.MALFORMED


def test_it_refuses_signed_bytes_that_are_not_json() -> None:
    encoded = _b64(b"not json")
    sig = hmac.new(SECRET.encode(), encoded.encode(), hashlib.sha256).digest()

    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=f"{_b64(sig)}.{encoded}")

    assert caught.value.reason is SignedRequestFailure.MALFORMED
