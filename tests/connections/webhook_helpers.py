"""Builders for the webhook receiver tests: signed TikTok deliveries and Meta signed_requests made
with the configured secrets, posted to the real endpoints with Django's test client."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from django.conf import settings
from django.test import Client as HttpClient
from django.utils import timezone

from apps.clients.models import Client
from apps.connections.models import LinkedAccount
from tests.factories import CredentialFactory, LinkedAccountFactory

TT_URL = "/webhooks/tt/"
IG_DEAUTHORIZE_URL = "/webhooks/ig/deauthorize/"
IG_DELETION_URL = "/webhooks/ig/data-deletion/"
B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def tiktok_body(
    open_id: str,
    event: str = "authorization.removed",
    reason: int = 1,
    *,
    create_time: int | None = None,
) -> bytes:
    return json.dumps(
        {
            "client_key": settings.TIKTOK_CLIENT_KEY,
            "event": event,
            "create_time": int(time.time()) if create_time is None else create_time,
            "user_openid": open_id,
            "content": json.dumps({"reason": reason, "nonce": uuid.uuid4().hex}),
        }
    ).encode()


def tiktok_signature(body: bytes, *, at: int | None = None, secret: str | None = None) -> str:
    stamp = int(time.time()) if at is None else at
    key = (secret or settings.TIKTOK_CLIENT_SECRET).encode()
    digest = hmac.new(key, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},s={digest}"


def post_tiktok(body: bytes, signature: str | None, **extra: Any) -> Any:
    headers = {"HTTP_TIKTOK_SIGNATURE": signature} if signature else {}
    return HttpClient().post(TT_URL, body, content_type="application/json", **headers, **extra)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign_payload(encoded_payload: str, *, secret: str | None = None) -> str:
    key = (secret or settings.INSTAGRAM_APP_SECRET).encode()
    return b64url(hmac.new(key, encoded_payload.encode(), hashlib.sha256).digest())


def signed_request(
    user_id: str,
    *,
    secret: str | None = None,
    issued_at: int | None = None,
    separators: tuple[str, str] = (", ", ": "),
    **payload: Any,
) -> str:
    """A Meta signed_request; `separators` spell the same payload differently."""
    body = {
        "algorithm": "HMAC-SHA256",
        "issued_at": int(time.time()) if issued_at is None else issued_at,
        "user_id": user_id,
        **payload,
    }
    encoded = b64url(json.dumps(body, separators=separators).encode())
    return sign_payload(encoded, secret=secret) + "." + encoded


def with_other_low_bits(value: str) -> list[str]:
    """The same signed_request with the signature's last character changed only in its unused
    low bits: a lenient base64 decoder reads every one of them as the genuine signature."""
    signature, payload = value.split(".", 1)
    assert len(signature) == 43  # 32 bytes: the last character carries 4 bits and 2 unused ones
    index = B64URL_ALPHABET.index(signature[-1])
    variants = [f"{signature[:-1]}{B64URL_ALPHABET[index ^ low]}.{payload}" for low in (1, 2, 3)]
    for variant in variants:
        lenient = base64.urlsafe_b64decode(variant.split(".")[0] + "=")
        assert lenient == base64.urlsafe_b64decode(signature + "=")
    return variants


def post_signed(url: str, value: str | None) -> Any:
    return HttpClient().post(url, {} if value is None else {"signed_request": value})


def tiktok_account_for(client: Client, **fields: Any) -> LinkedAccount:
    account = LinkedAccountFactory(
        client=client, platform="tiktok", external_id=f"open-{uuid.uuid4().hex[:8]}", **fields
    )
    CredentialFactory(account=account)
    return account


def instagram_account_for(client: Client, **fields: Any) -> LinkedAccount:
    account = LinkedAccountFactory(
        client=client,
        platform="instagram",
        external_id=fields.pop("external_id", "17841400000000001"),
        app_scoped_id=fields.pop("app_scoped_id", "26900000000000001"),
        display_name=fields.pop("display_name", "Northwind IG"),
        avatar_url=fields.pop("avatar_url", "https://example.com/a.jpg"),
        **fields,
    )
    CredentialFactory(account=account, refresh=None)
    return account


def state_of(account: LinkedAccount) -> str:
    return LinkedAccount.objects.get(pk=account.pk).state


def seconds_ago(seconds: int) -> int:
    return int(timezone.now().timestamp()) - seconds
