"""Meta `signed_request` verification for the deauthorize and data-deletion callbacks (§2.11).

Form field `signed_request=<b64url sig>.<b64url payload>`; the signature is
HMAC-SHA256(app secret, the payload segment as sent), compared in constant time, and the payload
must declare `algorithm == "HMAC-SHA256"`. The key is the Instagram App Secret (Instagram Login).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings

ALGORITHM = "HMAC-SHA256"
FORM_FIELD = "signed_request"


class SignedRequestFailure(StrEnum):
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    WRONG_ALGORITHM = "wrong_algorithm"


class SignedRequestError(Exception):
    """The callback is not provably Meta's; answer 400 and change nothing."""

    def __init__(self, reason: SignedRequestFailure) -> None:
        super().__init__(f"signed_request rejected: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class SignedRequest:
    user_id: str  # app-scoped; sometimes sent as a number, always a string here
    algorithm: str
    issued_at: int | None = None
    expires: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


def parse_signed_request(*, signed_request: str, secret: str | None = None) -> SignedRequest:
    """Verify and decode a signed_request; raises SignedRequestError saying why it is refused."""
    encoded_sig, sep, encoded_payload = (signed_request or "").strip().partition(".")
    if not sep or not encoded_sig or not encoded_payload:
        raise SignedRequestError(SignedRequestFailure.MALFORMED)
    # Decoding both segments first is harmless and follows §2.11's order; nothing is trusted yet.
    signature = _b64url_decode(encoded_sig)
    payload_bytes = _b64url_decode(encoded_payload)
    key = (secret if secret is not None else settings.INSTAGRAM_APP_SECRET).encode()
    # The MAC covers the payload segment exactly as sent, not a re-encoding of it.
    expected = hmac.new(key, encoded_payload.encode("ascii", "replace"), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise SignedRequestError(SignedRequestFailure.BAD_SIGNATURE)
    try:
        payload = json.loads(payload_bytes)
    except ValueError:
        raise SignedRequestError(SignedRequestFailure.MALFORMED) from None
    if not isinstance(payload, dict):
        raise SignedRequestError(SignedRequestFailure.MALFORMED)
    if str(payload.get("algorithm", "")).upper() != ALGORITHM:
        raise SignedRequestError(SignedRequestFailure.WRONG_ALGORITHM)
    user_id = payload.get("user_id")
    if user_id in (None, ""):
        raise SignedRequestError(SignedRequestFailure.MALFORMED)
    return SignedRequest(
        user_id=str(user_id),
        algorithm=ALGORITHM,
        issued_at=_int(payload.get("issued_at")),
        expires=_int(payload.get("expires")),
        payload=payload,
    )


def _b64url_decode(segment: str) -> bytes:
    """base64url without padding (Meta strips it); anything else is malformed."""
    try:
        return base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise SignedRequestError(SignedRequestFailure.MALFORMED) from None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
