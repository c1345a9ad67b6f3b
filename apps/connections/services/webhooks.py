"""Platform callbacks: TikTok webhooks and Instagram deauthorize / data-deletion (DESIGN §5).

A verified callback is stored, deduplicated and processed in one transaction (a crash rolls all
of it back and the platform's retry finds nothing half done). One issued before the account's
current grant changes nothing: a replay cannot undo a reconnect. A refused one — bad signature,
or signed but unreadable — leaves only a bounded record, at most WEBHOOK_UNVERIFIED_PER_MINUTE
per platform and minute, and changes nothing. An unknown account is a no-op.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.common.logging import request_meta_var
from apps.connections import hooks, vault
from apps.connections.lifecycle import account_transition, can_transition
from apps.connections.models import LinkedAccount, Platform, State, WebhookEvent
from apps.platforms.instagram.signed_request import (
    FORM_FIELD,
    SignedRequest,
    SignedRequestError,
    parse_signed_request,
)
from apps.platforms.tiktok import webhooks as tiktok_webhooks

MAX_BODY_BYTES = 64 * 1024
IGNORED_BEFORE_GRANT = "ignored: issued before the current grant"
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
    """Not provably from the platform, or not readable: answer `status`, nothing changed.

    `message` says what is wrong and is safe to send back (no input echoed, no secret);
    `retry_after` (seconds), when set, is when a refused delivery would be recorded again.
    """

    def __init__(self, message: str, *, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class WebhookOutcome:
    event: WebhookEvent
    duplicate: bool = False
    response: dict[str, Any] | None = None


# --- TikTok ------------------------------------------------------------------------------------


def tiktok_webhook_receive(*, raw_body: bytes, headers: Mapping[str, str]) -> WebhookOutcome:
    """Verify, deduplicate, store and process one delivery; WebhookRejected says why not."""
    header = headers.get(tiktok_webhooks.SIGNATURE_HEADER)

    def refuse(error: str, signature_key: str = "") -> WebhookRejected:
        return _refuse(
            platform=Platform.TIKTOK,
            kind=Kind.TIKTOK_WEBHOOK,
            error=error,
            raw_body=raw_body,
            headers=headers,
            signature=(tiktok_webhooks.SIGNATURE_HEADER, header),
            signature_key=signature_key,
        )

    if len(raw_body) > MAX_BODY_BYTES:
        raise refuse("body too large")
    try:
        signed = tiktok_webhooks.verify_signature(header=header, raw_body=raw_body)
    except tiktok_webhooks.WebhookSignatureError as exc:
        raise refuse(f"invalid signature ({exc.reason})") from None
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
        raise refuse(f"malformed body: {exc}", signature_key=signed.replay_key) from None
    with transaction.atomic():
        # TikTok re-signs every retry, so the body (not the signature) identifies the event.
        stored, duplicate = _store(
            platform=Platform.TIKTOK,
            kind=Kind.TIKTOK_WEBHOOK,
            event_type=event.event[:64],
            verified=True,
            dedupe_key=hashlib.sha256(raw_body).hexdigest(),
            signature_key=signed.replay_key,
            external_id=event.user_openid[:128],
            payload=_safe_json(raw_body),
        )
        if not duplicate:
            _process_tiktok(stored, event)
    return WebhookOutcome(stored, duplicate)


def _process_tiktok(stored: WebhookEvent, event: tiktok_webhooks.TikTokWebhook) -> None:
    result = "ignored"
    if event.event == tiktok_webhooks.AUTHORIZATION_REMOVED:
        reason_code = event.removal_reason
        reason = TIKTOK_REMOVAL_REASONS.get(reason_code or 0, TIKTOK_REMOVAL_REASONS[0])
        account = _live_account(Platform.TIKTOK, external_id=event.user_openid)
        result = _mark_revoked(
            account,
            reason,
            "webhook:tiktok",
            {"removal_reason": reason_code},
            issued_at=event.create_time or None,
        )
    elif event.event.startswith(("post.publish.", "video.")):
        account = _live_account(Platform.TIKTOK, external_id=event.user_openid)
        result = hooks.publish_event_received(account=account, event=event)
    _processed(stored, result)


# --- Instagram ---------------------------------------------------------------------------------


def _store_instagram(
    kind: str, event_type: str, parsed: Any, **fields: Any
) -> tuple[WebhookEvent, bool]:
    """Store a verified Instagram callback, deduplicated on its decoded payload."""
    return _store(
        platform=Platform.INSTAGRAM,
        kind=kind,
        event_type=event_type,
        verified=True,
        dedupe_key=_payload_key(kind, parsed),
        external_id=parsed.user_id[:128],
        payload=parsed.payload,
        **fields,
    )


def instagram_deauthorize_receive(
    *, signed_request: str | None, raw_body: bytes, headers: Mapping[str, str]
) -> WebhookOutcome:
    """The user removed the app on Instagram: revoke the account unless it was granted since."""
    parsed = _verify_signed_request(Kind.IG_DEAUTHORIZE, signed_request, raw_body, headers)
    with transaction.atomic():
        stored, duplicate = _store_instagram(Kind.IG_DEAUTHORIZE, "deauthorize", parsed)
        if not duplicate:
            result = _mark_revoked(
                _instagram_account(parsed.user_id),
                "The user removed Switchboard in Instagram's settings.",
                "webhook:instagram",
                {"callback": "deauthorize"},
                issued_at=parsed.issued_at,
            )
            _processed(stored, result)
    return WebhookOutcome(stored, duplicate)


def instagram_data_deletion_receive(
    *, signed_request: str | None, raw_body: bytes, headers: Mapping[str, str]
) -> WebhookOutcome:
    """The user asked Meta to delete their data: purge it and answer {url, confirmation_code}."""
    parsed = _verify_signed_request(Kind.IG_DATA_DELETION, signed_request, raw_body, headers)
    with transaction.atomic():
        stored, duplicate = _store_instagram(
            Kind.IG_DATA_DELETION, "data_deletion", parsed, confirmation_code=secrets.token_hex(8)
        )
        if not duplicate:
            _processed(stored, _purge_instagram_user(parsed.user_id, issued_at=parsed.issued_at))
    return WebhookOutcome(
        stored,
        duplicate,
        response={
            "url": f"{settings.PUBLIC_BASE_URL}/webhooks/ig/data-deletion/status/"
            f"{stored.confirmation_code}/",
            "confirmation_code": stored.confirmation_code,
        },
    )


def _verify_signed_request(
    kind: str, signed_request: str | None, raw_body: bytes, headers: Mapping[str, str]
) -> SignedRequest:
    def refuse(error: str) -> WebhookRejected:
        return _refuse(
            platform=Platform.INSTAGRAM,
            kind=kind,
            error=error,
            raw_body=raw_body,
            headers=headers,
            signature=(FORM_FIELD, signed_request),
        )

    if len(raw_body) > MAX_BODY_BYTES or len(signed_request or "") > MAX_BODY_BYTES:
        raise refuse("body too large")
    try:
        return parse_signed_request(signed_request=signed_request)
    except SignedRequestError as exc:
        raise refuse(str(exc)) from None


def _payload_key(kind: str, parsed: SignedRequest) -> str:
    """Dedupe on what Meta signed, decoded: other spellings of one callback are the same event."""
    return hashlib.sha256(kind.encode() + b"\n" + parsed.canonical_payload).hexdigest()


def _instagram_account(app_scoped_id: str) -> LinkedAccount | None:
    return _live_account(Platform.INSTAGRAM, app_scoped_id=app_scoped_id) or _live_account(
        Platform.INSTAGRAM, external_id=app_scoped_id
    )


def _purge_instagram_user(app_scoped_id: str, *, issued_at: int | None) -> str:
    accounts = list(
        LinkedAccount.objects.select_for_update(of=("self",))
        .select_related("client")
        .filter(platform=Platform.INSTAGRAM)
        .filter(Q(app_scoped_id=app_scoped_id) | Q(external_id=app_scoped_id))
    )
    if not accounts:
        return "no-op: unknown account"
    purged = kept = 0
    for account in accounts:
        # The request withdraws the authorization the user had when they made it. A link granted
        # again after that holds none of its data — the reconnect replaced the tokens and re-read
        # the profile under the new consent — so purging it would only kill a live grant the user
        # gave afterwards (and let a captured old callback do so at any time). Older links of the
        # same user, disconnected or not re-granted, are purged as Meta requires.
        if _issued_before_grant(account, issued_at):
            kept += 1
            continue
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
        purged += 1
    if not purged:
        return IGNORED_BEFORE_GRANT
    kept_note = f"; kept {kept} account(s) granted again after the request" if kept else ""
    return f"purged {purged} account(s){kept_note}"


# --- Shared ------------------------------------------------------------------------------------


def _store(**fields: Any) -> tuple[WebhookEvent, bool]:
    """Save the event; a verified duplicate (same dedupe key) returns the first one."""
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(**fields), False
    except IntegrityError:
        same = Q(dedupe_key=fields["dedupe_key"])
        if fields.get("signature_key"):
            same |= Q(signature_key=fields["signature_key"])
        first = WebhookEvent.objects.filter(
            same, platform=fields["platform"], verified=True
        ).first()
        if first is None:
            raise
        return first, True


def _live_account(platform: str, **lookup: str) -> LinkedAccount | None:
    return (
        LinkedAccount.objects.select_related("client")
        .filter(platform=platform, **lookup)
        .exclude(state=State.DISCONNECTED)
        .first()
    )


def _issued_before_grant(account: LinkedAccount, issued_at: int | None) -> bool:
    """True when a callback speaks of an older grant than the account's current one (DESIGN §5).

    Whole seconds on both sides (the platforms send Unix seconds): a callback from the grant's
    own second still counts, so a genuine removal right after a connect is never dropped. An
    unknown time on either side (no granted_at yet, no issued_at) acts as before.
    """
    if issued_at is None or issued_at <= 0 or account.granted_at is None:
        return False
    return issued_at < int(account.granted_at.timestamp())


def _mark_revoked(
    account: LinkedAccount | None,
    reason: str,
    actor_label: str,
    data: dict[str, Any],
    *,
    issued_at: int | None = None,
) -> str:
    if account is None:
        return "no-op: unknown account"
    account = LinkedAccount.objects.select_for_update().get(pk=account.pk)
    # Checked under the row lock, so a reconnect committing meanwhile is seen.
    if _issued_before_grant(account, issued_at):
        return IGNORED_BEFORE_GRANT
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
    # Entering revoked_on_platform cancels the account's pending publish work (lifecycle).
    return "revoked"


def _processed(stored: WebhookEvent, result: str) -> None:
    stored.processed_at = timezone.now()
    stored.result = result[:300]
    stored.save(update_fields=["processed_at", "result"])


def _safe_json(raw_body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw_body[:MAX_BODY_BYTES])
    except (ValueError, UnicodeDecodeError):
        return {"unparsed_length": len(raw_body)}
    # PostgreSQL's jsonb refuses NUL characters in strings; keep the rest of the event.
    value = json.loads(json.dumps(value).replace("\\u0000", "\\ufffd"))
    return value if isinstance(value, dict) else {"value": value}


# --- Refused deliveries: a bounded, rate-limited record ----------------------------------------

_SAFE_HEADERS = ("User-Agent", "Content-Type", "Content-Length")


def _refuse(
    *,
    platform: str,
    kind: str,
    error: str,
    raw_body: bytes,
    headers: Mapping[str, str],
    signature: tuple[str, str | None],
    signature_key: str = "",
) -> WebhookRejected:
    """Record a refused delivery (bounded) and return the exception to raise.

    Over this minute's cap nothing is stored and the answer is 429.
    """
    recorded = _record_refused(
        WebhookEvent(
            platform=platform,
            kind=kind,
            verified=False,
            verification_error=error[:200],
            signature_key=signature_key,
            body_sha256=hashlib.sha256(raw_body).hexdigest(),
            body_size=len(raw_body),
            body_excerpt=_text(raw_body[: WebhookEvent.EXCERPT_BYTES]),
            request_summary=_request_summary(headers, *signature),
        )
    )
    if not recorded:
        next_minute = 60 - int(timezone.now().timestamp()) % 60
        return WebhookRejected(
            f"{error}; too many refused deliveries, not recorded",
            status=429,
            retry_after=next_minute,
        )
    return WebhookRejected(error)


def _record_refused(event: WebhookEvent) -> bool:
    """Store `event` in a free slot of this minute's cap; False when the cap is reached.

    Slots are unique per platform in the database, so concurrent processes cannot overshoot:
    one that loses a race for a slot tries the next.
    """
    limit = settings.WEBHOOK_UNVERIFIED_PER_MINUTE
    event.received_at = timezone.now()
    minute = int(event.received_at.timestamp()) // 60
    start = datetime.fromtimestamp(minute * 60, tz=UTC)
    taken = (
        WebhookEvent.objects.filter(
            platform=event.platform,
            received_at__gte=start,
            received_at__lt=start + timedelta(minutes=1),
        )
        .exclude(rate_slot="")
        .count()
    )
    for slot in range(taken + 1, limit + 1):
        event.rate_slot = f"{minute}:{slot}"
        try:
            with transaction.atomic():
                event.save(force_insert=True)
        except IntegrityError:
            event.pk = None
            if (
                event.signature_key
                and WebhookEvent.objects.filter(
                    platform=event.platform, signature_key=event.signature_key
                ).exists()
            ):
                return True  # the same signed delivery, recorded by a concurrent request
            continue
        return True
    return False


def _request_summary(
    headers: Mapping[str, str], signature_name: str, signature_value: str | None
) -> dict[str, Any]:
    """A few safe request facts: never the signature itself, only whether it came and its size."""
    summary: dict[str, Any] = {
        name.lower(): _text(value.encode("utf-8", "replace")[:200])
        for name in _SAFE_HEADERS
        if (value := headers.get(name)) is not None
    }
    summary["signature"] = {
        "name": signature_name,
        "present": signature_value is not None,
        "length": len(signature_value or ""),
    }
    meta = request_meta_var.get()
    if meta is not None and meta.ip:
        summary["ip"] = meta.ip
    return summary


def _text(raw: bytes) -> str:
    # PostgreSQL text cannot hold NUL; undecodable bytes become U+FFFD (never more characters
    # than bytes, so the excerpt fits its column).
    return raw.decode("utf-8", "replace").replace("\x00", "\ufffd")
