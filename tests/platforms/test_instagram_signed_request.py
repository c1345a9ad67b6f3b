"""Meta signed_request verification for the deauthorize and data-deletion callbacks."""

from __future__ import annotations

import base64
import contextlib
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


META_SECRET = "meta-parent-secret"


@pytest.mark.parametrize("secret", [SECRET, META_SECRET])
def test_it_accepts_the_instagram_or_the_parent_meta_app_secret(settings: Any, secret: str) -> None:
    # PLATFORMS §2.11: Meta is reported to sign Instagram Login callbacks with the parent app's.
    settings.META_APP_SECRET = META_SECRET

    assert parse_signed_request(signed_request=_signed(secret=secret)).user_id == "218471"


def test_it_refuses_a_third_secret_with_both_configured(settings: Any) -> None:
    settings.META_APP_SECRET = META_SECRET

    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=_signed(secret="a-third-secret"))

    assert caught.value.reason is SignedRequestFailure.BAD_SIGNATURE


def test_it_refuses_the_meta_secret_when_it_is_not_configured(settings: Any) -> None:
    settings.META_APP_SECRET = ""

    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=_signed(secret=META_SECRET))

    assert caught.value.reason is SignedRequestFailure.BAD_SIGNATURE


@pytest.mark.parametrize(
    ("ig_secret", "meta_secret"), [("", ""), ("ig-secret", ""), ("", META_SECRET)]
)
def test_an_empty_secret_never_verifies_anything(
    settings: Any, ig_secret: str, meta_secret: str
) -> None:
    # Anyone can compute HMAC with an empty key: an unset secret must not become one.
    settings.INSTAGRAM_APP_SECRET = ig_secret
    settings.META_APP_SECRET = meta_secret

    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=_signed(secret=""))

    assert caught.value.reason is SignedRequestFailure.BAD_SIGNATURE


def test_it_tries_every_configured_secret_whichever_matches(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No early exit: the time taken must not tell which secret (if any) signed the callback.
    settings.META_APP_SECRET = META_SECRET
    compared: list[bytes] = []
    real = hmac.compare_digest

    def counting(a: Any, b: Any) -> bool:
        compared.append(b)
        return real(a, b)

    monkeypatch.setattr("apps.platforms.instagram.signed_request.hmac.compare_digest", counting)
    for secret in (SECRET, META_SECRET, "wrong"):
        compared.clear()
        with contextlib.suppress(SignedRequestError):
            parse_signed_request(signed_request=_signed(secret=secret))
        assert len(compared) == 2, secret


def test_it_refuses_a_bad_signature() -> None:
    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=_signed(secret="wrong"))

    assert caught.value.reason is SignedRequestFailure.BAD_SIGNATURE
    assert str(caught.value) == "invalid signature"


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
    assert str(caught.value) == "unsupported algorithm (expected HMAC-SHA256)"


def test_it_refuses_a_missing_algorithm() -> None:
    payload = {k: v for k, v in PAYLOAD.items() if k != "algorithm"}

    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=_signed(payload))

    assert caught.value.reason is SignedRequestFailure.WRONG_ALGORITHM


@pytest.mark.parametrize("value", [None, "", "   "])
def test_it_refuses_a_missing_signed_request(value: str | None) -> None:
    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=value)

    assert caught.value.reason is SignedRequestFailure.MISSING
    assert str(caught.value) == "missing signed_request"


@pytest.mark.parametrize(
    "value",
    [
        "no-dot-at-all",
        ".payload-only",
        "sig-only.",
        "!!!not base64!!!.eyJ9",
        "abc.e",  # a single base64 character cannot decode
        "YWJj.eyJ9==",  # padded: Meta strips the padding, so padding is another spelling
        "YW+j.eyJ9",  # standard base64, not base64url
    ],
)
def test_it_refuses_malformed_input(value: str) -> None:
    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=value)

    assert caught.value.reason is SignedRequestFailure.MALFORMED
    assert str(caught.value).startswith("malformed signed_request: ")


def test_it_refuses_a_signature_altered_in_its_unused_low_bits() -> None:
    """43 base64 characters carry 258 bits for a 256-bit MAC: the last character's two spare
    bits can be changed without changing the decoded bytes, making a "new" callback."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sig, payload = _signed().split(".")
    altered = sig[:-1] + alphabet[alphabet.index(sig[-1]) ^ 1]
    assert base64.urlsafe_b64decode(altered + "=") == base64.urlsafe_b64decode(sig + "=")

    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=f"{altered}.{payload}")

    assert caught.value.reason is SignedRequestFailure.MALFORMED
    assert str(caught.value) == (
        "malformed signed_request: the signature is not canonical unpadded base64url"
    )


def test_the_canonical_payload_is_the_same_however_the_json_is_spelled() -> None:
    compact = _b64(json.dumps(PAYLOAD, separators=(",", ":")).encode())
    spaced = _b64(json.dumps(dict(reversed(PAYLOAD.items())), indent=2).encode())
    values = [
        f"{_b64(hmac.new(SECRET.encode(), e.encode(), hashlib.sha256).digest())}.{e}"
        for e in (compact, spaced)
    ]
    first, second = (parse_signed_request(signed_request=v) for v in values)

    assert values[0] != values[1]
    assert first.canonical_payload == second.canonical_payload


def test_it_refuses_malformed_base64_in_a_correctly_signed_payload() -> None:
    encoded = "eyJ@bad"
    sig = hmac.new(SECRET.encode(), encoded.encode(), hashlib.sha256).digest()

    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=f"{_b64(sig)}.{encoded}")

    assert caught.value.reason is SignedRequestFailure.MALFORMED


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (["not", "an", "object"], "malformed payload: not a JSON object"),
        ({"algorithm": "HMAC-SHA256"}, "malformed payload: no user_id"),
        ({"algorithm": "HMAC-SHA256", "user_id": {"id": 1}}, "malformed payload: no user_id"),
    ],
)
def test_it_refuses_a_signed_payload_without_a_user(payload: Any, message: str) -> None:
    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=_signed(payload))

    assert caught.value.reason is SignedRequestFailure.MALFORMED_PAYLOAD
    assert str(caught.value) == message


def test_it_refuses_signed_bytes_that_are_not_json() -> None:
    encoded = _b64(b"not json")
    sig = hmac.new(SECRET.encode(), encoded.encode(), hashlib.sha256).digest()

    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(signed_request=f"{_b64(sig)}.{encoded}")

    assert caught.value.reason is SignedRequestFailure.MALFORMED_PAYLOAD
    assert str(caught.value) == "malformed payload: not JSON"
