"""Meta `signed_request` verification for the deauthorize and data-deletion callbacks (§2.11).

Form field `signed_request=<b64url sig>.<b64url payload>`; the signature is
HMAC-SHA256(app secret, the payload segment as sent), compared in constant time, and the payload
must declare `algorithm == "HMAC-SHA256"`. The key is the Instagram App Secret (Instagram Login)
or, when `META_APP_SECRET` is set, the parent Meta app's secret: one production handler reports
that Meta signs Instagram Login callbacks with the latter (unverified [3p]), so either is
accepted. Every configured secret is tried, whatever matched first, and an empty one never counts
(anyone can sign with an empty key).

Both segments must be canonical unpadded base64url: a lenient decoder maps several strings to the
same bytes (the unused low bits of the last character), which would let a captured callback be
re-sent as a "new" one. Receivers deduplicate on the decoded payload as well.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings

ALGORITHM = "HMAC-SHA256"
FORM_FIELD = "signed_request"
_B64URL_UNPADDED = re.compile(r"[A-Za-z0-9_-]+")


class SignedRequestFailure(StrEnum):
    MISSING = "missing"
    MALFORMED = "malformed"  # not <sig>.<payload> in canonical base64url: nothing is verified
    BAD_SIGNATURE = "bad_signature"
    WRONG_ALGORITHM = "wrong_algorithm"
    MALFORMED_PAYLOAD = "malformed_payload"  # correctly signed, but not a payload we can read


class SignedRequestError(Exception):
    """The callback is not provably Meta's, or not readable; answer 400 and change nothing.

    The message says what is wrong without echoing the input or anything secret.
    """

    def __init__(self, reason: SignedRequestFailure, detail: str = "") -> None:
        super().__init__(_MESSAGES[reason] + (f": {detail}" if detail else ""))
        self.reason = reason


_MESSAGES = {
    SignedRequestFailure.MISSING: "missing signed_request",
    SignedRequestFailure.MALFORMED: "malformed signed_request",
    SignedRequestFailure.BAD_SIGNATURE: "invalid signature",
    SignedRequestFailure.WRONG_ALGORITHM: f"unsupported algorithm (expected {ALGORITHM})",
    SignedRequestFailure.MALFORMED_PAYLOAD: "malformed payload",
}


@dataclass(frozen=True)
class SignedRequest:
    user_id: str  # app-scoped; sometimes sent as a number, always a string here
    algorithm: str
    issued_at: int | None = None
    expires: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def canonical_payload(self) -> bytes:
        """One byte string per payload, however it was encoded: the key to deduplicate on."""
        return json.dumps(
            self.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode()


def configured_secrets() -> tuple[str, ...]:
    """The keys a callback may be signed with (§2.11): the Instagram App Secret, then the parent
    Meta app's when `META_APP_SECRET` is set."""
    candidates = (settings.INSTAGRAM_APP_SECRET, getattr(settings, "META_APP_SECRET", ""))
    return tuple(secret for secret in candidates if secret)


def parse_signed_request(*, signed_request: str | None, secret: str | None = None) -> SignedRequest:
    """Verify and decode a signed_request; raises SignedRequestError saying why it is refused.

    `secret` pins one key (tests); by default any of `configured_secrets()` may have signed it.
    """
    value = (signed_request or "").strip()
    if not value:
        raise SignedRequestError(SignedRequestFailure.MISSING)
    encoded_sig, sep, encoded_payload = value.partition(".")
    if not sep or not encoded_sig or not encoded_payload:
        raise SignedRequestError(SignedRequestFailure.MALFORMED, "expected <signature>.<payload>")
    # Decoding both segments first is harmless and follows §2.11's order; nothing is trusted yet.
    signature = _b64url_decode(encoded_sig, "signature")
    payload_bytes = _b64url_decode(encoded_payload, "payload")
    secrets = (secret,) if secret is not None else configured_secrets()
    if not _signed_with_any(signature, encoded_payload, secrets):
        raise SignedRequestError(SignedRequestFailure.BAD_SIGNATURE)
    try:
        payload = json.loads(payload_bytes)
    except ValueError:
        raise SignedRequestError(SignedRequestFailure.MALFORMED_PAYLOAD, "not JSON") from None
    if not isinstance(payload, dict):
        raise SignedRequestError(SignedRequestFailure.MALFORMED_PAYLOAD, "not a JSON object")
    if str(payload.get("algorithm", "")).upper() != ALGORITHM:
        raise SignedRequestError(SignedRequestFailure.WRONG_ALGORITHM)
    user_id = payload.get("user_id")
    if user_id in (None, "") or isinstance(user_id, (dict, list, bool)):
        raise SignedRequestError(SignedRequestFailure.MALFORMED_PAYLOAD, "no user_id")
    return SignedRequest(
        user_id=str(user_id),
        algorithm=ALGORITHM,
        issued_at=_int(payload.get("issued_at")),
        expires=_int(payload.get("expires")),
        payload=payload,
    )


def _signed_with_any(signature: bytes, encoded_payload: str, secrets: tuple[str, ...]) -> bool:
    """Whether one of `secrets` made `signature`: each compared in constant time, and all of
    them always tried, so the time taken says nothing about which one (if any) matched."""
    matched = False
    for secret in secrets:
        if not secret:
            continue
        # The MAC covers the payload segment exactly as sent, not a re-encoding of it.
        expected = hmac.new(
            secret.encode(), encoded_payload.encode("ascii"), hashlib.sha256
        ).digest()
        matched |= hmac.compare_digest(signature, expected)
    return matched


def _b64url_decode(segment: str, name: str) -> bytes:
    """Canonical unpadded base64url (Meta strips the padding); anything else is malformed.

    Canonical means re-encoding the bytes gives the segment back: a last character with non-zero
    unused bits decodes to the same bytes as the genuine one, so it is refused rather than read.
    """
    problem = f"the {name} is not canonical unpadded base64url"
    if not _B64URL_UNPADDED.fullmatch(segment):
        raise SignedRequestError(SignedRequestFailure.MALFORMED, problem)
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise SignedRequestError(SignedRequestFailure.MALFORMED, problem) from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != segment:
        raise SignedRequestError(SignedRequestFailure.MALFORMED, problem)
    return raw


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
