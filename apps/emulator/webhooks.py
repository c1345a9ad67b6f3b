"""Outbound callbacks the platforms send: TikTok webhooks and Meta's signed_request callbacks.

Sent synchronously with a short timeout and recorded as `WebhookDelivery` rows. The platforms
retry for up to 72 h (PLATFORMS §1.9); the sandbox sends once — re-send from the control API.
Timestamps are wall time, not sandbox time, because receivers check freshness against their
own clocks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings

from apps.emulator.models import SandboxAccount, WebhookDelivery
from apps.emulator.state import get_config, webhook_target

SEND_TIMEOUT = (3.0, 10.0)


def tiktok_signature(body: str, *, secret: str, timestamp: int) -> str:
    """`TikTok-Signature` header value: t=<ts>,s=hex(HMAC_SHA256(secret, f"{t}.{body}"))."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},s={mac}"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed_request(payload: dict[str, Any], *, secret: str) -> str:
    """Meta's `signed_request`: b64url(HMAC_SHA256(secret, encoded_payload)) + "." + payload."""
    encoded = _b64url(json.dumps(payload, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).digest()
    return _b64url(sig) + "." + encoded


def _deliver(kind: str, url: str, body: str, headers: dict[str, str]) -> WebhookDelivery:
    delivery = WebhookDelivery(kind=kind, url=url, body=body, headers=headers)
    if not get_config().webhooks_enabled:
        delivery.error = "webhooks disabled"
        delivery.save()
        return delivery
    try:
        response = requests.post(
            url,
            data=body.encode(),
            headers=headers,
            timeout=SEND_TIMEOUT,
            allow_redirects=False,
        )
        delivery.status_code = response.status_code
        delivery.response_body = response.text[:2000]
    except requests.RequestException as exc:
        delivery.error = f"{type(exc).__name__}: {exc}"[:300]
    delivery.save()
    return delivery


def send_tiktok_event(
    account: SandboxAccount, event: str, content: dict[str, Any]
) -> WebhookDelivery:
    """POST a signed TikTok webhook (PLATFORMS §1.9) to the configured callback URL."""
    now = int(time.time())
    body = json.dumps(
        {
            "client_key": settings.TIKTOK_CLIENT_KEY,
            "event": event,
            "create_time": now,
            "user_openid": account.open_id,
            "content": json.dumps(content),
        }
    )
    headers = {
        "Content-Type": "application/json",
        "TikTok-Signature": tiktok_signature(
            body, secret=settings.TIKTOK_CLIENT_SECRET, timestamp=now
        ),
    }
    return _deliver("tiktok:" + event, webhook_target("tiktok"), body, headers)


def instagram_signing_key() -> str:
    """The Instagram App Secret, or the parent Meta app's when configured (§2.11)."""
    if get_config().instagram_signing_secret == "meta":
        return str(settings.META_APP_SECRET)
    return str(settings.INSTAGRAM_APP_SECRET)


def send_instagram_callback(account: SandboxAccount, kind: str) -> WebhookDelivery:
    """POST a form-encoded signed_request to the deauthorize or data-deletion URL (§2.11),
    signed with `instagram_signing_key()`.

    `kind` is "instagram_deauthorize" or "instagram_data_deletion".
    """
    now = int(time.time())
    payload = {
        "algorithm": "HMAC-SHA256",
        "expires": now + 3600,
        "issued_at": now,
        "user_id": account.app_scoped_id,
    }
    body = urlencode({"signed_request": signed_request(payload, secret=instagram_signing_key())})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return _deliver(kind, webhook_target(kind), body, headers)
