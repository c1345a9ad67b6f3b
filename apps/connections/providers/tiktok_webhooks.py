"""TikTok's webhook (PLATFORMS §1.9): one signed JSON delivery per event.

Loaded by `TikTokProvider.receive_webhook` on first use: it builds on the shared machinery in
`apps.connections.services.webhooks`, which needs the models, which need the provider registry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from django.db import transaction

from apps.connections import hooks
from apps.connections.models import WebhookEvent
from apps.connections.services.webhooks import (
    MAX_BODY_BYTES,
    WebhookOutcome,
    WebhookRejected,
    live_account,
    mark_revoked,
    processed,
    refuse,
    safe_json,
    store,
)
from apps.platforms.tiktok import webhooks as tiktok_webhooks
from apps.platforms.types import Platform

Kind = WebhookEvent.Kind

TIKTOK_REMOVAL_REASONS = {
    0: "The app was removed on TikTok (reason not given).",
    1: "The user disconnected Switchboard in the TikTok app.",
    2: "The TikTok account was deleted.",
    3: "The TikTok account's age changed.",
    4: "The TikTok account was banned.",
    5: "The authorization was revoked by the developer.",
}


def tiktok_webhook_receive(*, raw_body: bytes, headers: Mapping[str, str]) -> WebhookOutcome:
    """Verify, deduplicate, store and process one delivery; WebhookRejected says why not."""
    header = headers.get(tiktok_webhooks.SIGNATURE_HEADER)

    def refused(error: str, signature_key: str = "") -> WebhookRejected:
        return refuse(
            platform=Platform.TIKTOK,
            kind=Kind.TIKTOK_WEBHOOK,
            error=error,
            raw_body=raw_body,
            headers=headers,
            signature=(tiktok_webhooks.SIGNATURE_HEADER, header),
            signature_key=signature_key,
        )

    if len(raw_body) > MAX_BODY_BYTES:
        raise refused("body too large")
    try:
        signed = tiktok_webhooks.verify_signature(header=header, raw_body=raw_body)
    except tiktok_webhooks.WebhookSignatureError as exc:
        raise refused(f"invalid signature ({exc.reason})") from None
    # The replay memory is the event table (unique signature_key), shared by every process.
    seen = WebhookEvent.objects.filter(
        platform=Platform.TIKTOK, signature_key=signed.replay_key
    ).first()
    if seen is not None and seen.verified:
        # An exact re-send of a delivery we stored: acknowledged so TikTok stops retrying
        # (at-least-once, PLATFORMS §1.9), never processed twice.
        return WebhookOutcome(seen, duplicate=True)
    if seen is not None:
        # The same signed delivery we already refused as unreadable: nothing new to record.
        raise WebhookRejected(f"invalid signature ({tiktok_webhooks.SignatureFailure.REPLAYED})")
    try:
        event = tiktok_webhooks.parse_event(raw_body)
    except tiktok_webhooks.WebhookPayloadError as exc:
        raise refused(f"malformed body: {exc}", signature_key=signed.replay_key) from None
    with transaction.atomic():
        # TikTok re-signs every retry, so the body (not the signature) identifies the event.
        stored, duplicate = store(
            platform=Platform.TIKTOK,
            kind=Kind.TIKTOK_WEBHOOK,
            event_type=event.event[:64],
            verified=True,
            dedupe_key=hashlib.sha256(raw_body).hexdigest(),
            signature_key=signed.replay_key,
            external_id=event.user_openid[:128],
            payload=safe_json(raw_body),
        )
        if not duplicate:
            _process(stored, event)
    return WebhookOutcome(stored, duplicate)


def _process(stored: WebhookEvent, event: tiktok_webhooks.TikTokWebhook) -> None:
    result = "ignored"
    if event.event == tiktok_webhooks.AUTHORIZATION_REMOVED:
        reason_code = event.removal_reason
        reason = TIKTOK_REMOVAL_REASONS.get(reason_code or 0, TIKTOK_REMOVAL_REASONS[0])
        account = live_account(Platform.TIKTOK, external_id=event.user_openid)
        result = mark_revoked(
            account,
            reason,
            "webhook:tiktok",
            {"removal_reason": reason_code},
            issued_at=event.create_time or None,
        )
    elif event.event.startswith(("post.publish.", "video.")):
        account = live_account(Platform.TIKTOK, external_id=event.user_openid)
        result = hooks.publish_event_received(account=account, event=event)
    processed(stored, result)
