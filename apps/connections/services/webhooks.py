"""Platform callbacks: TikTok webhooks and Instagram deauthorize / data-deletion (DESIGN §5).

Each is stored first (verified or not), deduplicated, then processed idempotently. A forged one
is stored as unverified and changes nothing; an unknown account is a no-op.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.connections import vault
from apps.connections.lifecycle import account_transition, can_transition
from apps.connections.models import LinkedAccount, Platform, State, WebhookEvent
from apps.connections.services.disconnect import on_account_blocked
from apps.platforms.instagram.signed_request import SignedRequestError, parse_signed_request
from apps.platforms.tiktok import webhooks as tiktok_webhooks

MAX_BODY_BYTES = 64 * 1024
Kind = WebhookEvent.Kind

TIKTOK_REMOVAL_REASONS = {
    0: "The app was removed on TikTok (reason not given).",
    1: "The user disconnected Switchboard in the TikTok app.",
    2: "The TikTok account was deleted.",
    3: "The TikTok account's age changed.",
    4: "The TikTok account was banned.",
    5: "The authorization was revoked by the developer.",
}


class WebhookRejected(Exception):
    """Not provably from the platform: answer 400, nothing changed."""


@dataclass(frozen=True)
class WebhookOutcome:
    event: WebhookEvent
    duplicate: bool = False
    response: dict[str, Any] | None = None


def _store(**fields: Any) -> tuple[WebhookEvent, bool]:
    """Save the event; a verified duplicate (same dedupe key) returns the first one."""
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(**fields), False
    except IntegrityError:
        first = WebhookEvent.objects.get(
            platform=fields["platform"], dedupe_key=fields["dedupe_key"], verified=True
        )
        return first, True


def _live_account(platform: str, **lookup: str) -> LinkedAccount | None:
    return (
        LinkedAccount.objects.select_related("client")
        .filter(platform=platform, **lookup)
        .exclude(state=State.DISCONNECTED)
        .first()
    )


def tiktok_webhook_receive(*, raw_body: bytes, signature: str | None) -> WebhookOutcome:
    if len(raw_body) > MAX_BODY_BYTES:
        raise WebhookRejected("body too large")
    dedupe_key = hashlib.sha256(raw_body).hexdigest()
    try:
        tiktok_webhooks.verify_signature(header=signature, raw_body=raw_body)
        event = tiktok_webhooks.parse_event(raw_body)
    except tiktok_webhooks.WebhookSignatureError as exc:
        # TikTok delivers at least once (PLATFORMS §1.9): an authentic re-delivery of an event
        # we already processed, signature and all, is acknowledged so TikTok stops retrying.
        first = (
            WebhookEvent.objects.filter(
                platform=Platform.TIKTOK, dedupe_key=dedupe_key, verified=True
            ).first()
            if exc.reason == tiktok_webhooks.SignatureFailure.REPLAYED
            else None
        )
        if first is not None:
            return WebhookOutcome(first, duplicate=True)
        _store_unverified(raw_body, str(exc))
        raise WebhookRejected(str(exc)) from None
    except tiktok_webhooks.WebhookPayloadError as exc:
        _store_unverified(raw_body, str(exc))
        raise WebhookRejected(str(exc)) from None
    stored, duplicate = _store(
        platform=Platform.TIKTOK,
        kind=Kind.TIKTOK_WEBHOOK,
        event_type=event.event[:64],
        verified=True,
        dedupe_key=dedupe_key,
        external_id=event.user_openid[:128],
        payload=_safe_json(raw_body),
    )
    if not duplicate:
        _process_tiktok(stored, event)
    return WebhookOutcome(stored, duplicate)


def _store_unverified(raw_body: bytes, error: str) -> None:
    WebhookEvent.objects.create(
        platform=Platform.TIKTOK,
        kind=Kind.TIKTOK_WEBHOOK,
        verified=False,
        verification_error=error[:200],
        payload=_safe_json(raw_body),
    )


@transaction.atomic
def _process_tiktok(stored: WebhookEvent, event: tiktok_webhooks.WebhookEvent) -> None:
    result = "ignored"
    if event.event == tiktok_webhooks.AUTHORIZATION_REMOVED:
        reason_code = event.removal_reason
        reason = TIKTOK_REMOVAL_REASONS.get(reason_code or 0, TIKTOK_REMOVAL_REASONS[0])
        account = _live_account(Platform.TIKTOK, external_id=event.user_openid)
        result = _mark_revoked(account, reason, "webhook:tiktok", {"removal_reason": reason_code})
    elif event.event.startswith(("post.publish.", "video.")):
        result = "stored for publishing"
    _processed(stored, result)


def _mark_revoked(
    account: LinkedAccount | None, reason: str, actor_label: str, data: dict[str, Any]
) -> str:
    if account is None:
        return "no-op: unknown account"
    account = LinkedAccount.objects.select_for_update().get(pk=account.pk)
    if account.state == State.DISCONNECT_PENDING:
        # Our own disconnect echoing back (TikTok reason 5): the platform side is done.
        account.platform_revoke_done = True
        account.save(update_fields=["platform_revoke_done"])
        return "platform confirmed our revoke"
    if not can_transition(account.state, State.REVOKED_ON_PLATFORM):
        return f"no-op: account is {account.state}"
    account_transition(
        account=account,
        to=State.REVOKED_ON_PLATFORM,
        reason=reason,
        actor_label=actor_label,
        data=data,
    )
    cancelled = on_account_blocked(account=account, reason=reason)
    return f"revoked; {cancelled} pending publish item(s) cancelled"


def instagram_deauthorize_receive(*, signed_request: str) -> WebhookOutcome:
    parsed = _verify_signed_request(signed_request, Kind.IG_DEAUTHORIZE)
    stored, duplicate = _store(
        platform=Platform.INSTAGRAM,
        kind=Kind.IG_DEAUTHORIZE,
        event_type="deauthorize",
        verified=True,
        dedupe_key=hashlib.sha256(signed_request.encode()).hexdigest(),
        external_id=parsed.user_id[:128],
        payload=parsed.payload,
    )
    if not duplicate:
        with transaction.atomic():
            account = _instagram_account(parsed.user_id)
            result = _mark_revoked(
                account,
                "The user removed Switchboard in Instagram's settings.",
                "webhook:instagram",
                {"callback": "deauthorize"},
            )
            _processed(stored, result)
    return WebhookOutcome(stored, duplicate)


def instagram_data_deletion_receive(*, signed_request: str) -> WebhookOutcome:
    parsed = _verify_signed_request(signed_request, Kind.IG_DATA_DELETION)
    stored, duplicate = _store(
        platform=Platform.INSTAGRAM,
        kind=Kind.IG_DATA_DELETION,
        event_type="data_deletion",
        verified=True,
        dedupe_key=hashlib.sha256(signed_request.encode()).hexdigest(),
        external_id=parsed.user_id[:128],
        payload=parsed.payload,
        confirmation_code=secrets.token_hex(8),
    )
    if not duplicate:
        with transaction.atomic():
            result = _purge_instagram_user(parsed.user_id)
            _processed(stored, result)
    return WebhookOutcome(
        stored,
        duplicate,
        response={
            "url": f"{settings.PUBLIC_BASE_URL}/webhooks/ig/data-deletion/status/"
            f"{stored.confirmation_code}/",
            "confirmation_code": stored.confirmation_code,
        },
    )


def _instagram_account(app_scoped_id: str) -> LinkedAccount | None:
    return _live_account(Platform.INSTAGRAM, app_scoped_id=app_scoped_id) or _live_account(
        Platform.INSTAGRAM, external_id=app_scoped_id
    )


def _purge_instagram_user(app_scoped_id: str) -> str:
    accounts = list(
        LinkedAccount.objects.select_for_update(of=("self",))
        .select_related("client")
        .filter(platform=Platform.INSTAGRAM)
        .filter(Q(app_scoped_id=app_scoped_id) | Q(external_id=app_scoped_id))
    )
    if not accounts:
        return "no-op: unknown account"
    for account in accounts:
        _mark_revoked(
            account, "The user asked Instagram to delete their data.", "webhook:instagram", {}
        )
        vault.credential_delete(account=account)
        account.display_name = ""
        account.avatar_url = ""
        account.save(update_fields=["display_name", "avatar_url"])
        audit_record(
            action=AuditAction.CONNECTION_DATA_DELETED,
            actor=None,
            actor_label="webhook:instagram",
            client=account.client,
            target=account,
            data={"purged": ["tokens", "display_name", "avatar_url"]},
        )
    return f"purged {len(accounts)} account(s)"


def _verify_signed_request(signed_request: str, kind: str) -> Any:
    if len(signed_request) > MAX_BODY_BYTES:
        raise WebhookRejected("body too large")
    try:
        return parse_signed_request(signed_request=signed_request)
    except SignedRequestError as exc:
        WebhookEvent.objects.create(
            platform=Platform.INSTAGRAM,
            kind=kind,
            verified=False,
            verification_error=str(exc)[:200],
            payload={"signed_request_length": len(signed_request)},
        )
        raise WebhookRejected(str(exc)) from None


def _processed(stored: WebhookEvent, result: str) -> None:
    stored.processed_at = timezone.now()
    stored.result = result[:300]
    stored.save(update_fields=["processed_at", "result"])


def _safe_json(raw_body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw_body[:MAX_BODY_BYTES])
    except (ValueError, UnicodeDecodeError):
        return {"unparsed_length": len(raw_body)}
    return value if isinstance(value, dict) else {"value": value}
