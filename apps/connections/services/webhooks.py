"""Platform callbacks (DESIGN §5): the shared machinery every provider's webhooks build on.

Each provider declares its webhook kinds and receives them (`Provider.receive_webhook`, in
`apps/connections/providers/`); what they share lives here.

A verified callback is stored, deduplicated and processed in one transaction (a crash rolls all
of it back and the platform's retry finds nothing half done). One issued before the account's
current grant changes nothing: a replay cannot undo a reconnect. A refused one — bad signature,
or signed but unreadable — leaves only a bounded record, at most WEBHOOK_UNVERIFIED_PER_MINUTE
per platform and minute, and changes nothing. An unknown account is a no-op.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.common.logging import request_meta_var
from apps.connections.lifecycle import account_transition, can_transition
from apps.connections.models import LinkedAccount, State, WebhookEvent

MAX_BODY_BYTES = 64 * 1024
IGNORED_BEFORE_GRANT = "ignored: issued before the current grant"


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
    """A stored (or duplicate) callback; `response` is the JSON to answer, None for {"ok": true}."""

    event: WebhookEvent
    duplicate: bool = False
    response: dict[str, Any] | None = None


# --- Verified deliveries --------------------------------------------------------------------------


def store(**fields: Any) -> tuple[WebhookEvent, bool]:
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


def live_account(platform: str, **lookup: str) -> LinkedAccount | None:
    return (
        LinkedAccount.objects.select_related("client")
        .filter(platform=platform, **lookup)
        .exclude(state=State.DISCONNECTED)
        .first()
    )


def issued_before_grant(account: LinkedAccount, issued_at: int | None) -> bool:
    """True when a callback speaks of an older grant than the account's current one (DESIGN §5).

    Whole seconds on both sides (the platforms send Unix seconds): a callback from the grant's
    own second still counts, so a genuine removal right after a connect is never dropped. An
    unknown time on either side (no granted_at yet, no issued_at) acts as before.
    """
    if issued_at is None or issued_at <= 0 or account.granted_at is None:
        return False
    return issued_at < int(account.granted_at.timestamp())


def mark_revoked(
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
    if issued_before_grant(account, issued_at):
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


def processed(stored: WebhookEvent, result: str) -> None:
    stored.processed_at = timezone.now()
    stored.result = result[:300]
    stored.save(update_fields=["processed_at", "result"])


def safe_json(raw_body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw_body[:MAX_BODY_BYTES])
    except (ValueError, UnicodeDecodeError):
        return {"unparsed_length": len(raw_body)}
    # PostgreSQL's jsonb refuses NUL characters in strings; keep the rest of the event.
    value = json.loads(json.dumps(value).replace("\\u0000", "\\ufffd"))
    return value if isinstance(value, dict) else {"value": value}


# --- Refused deliveries: a bounded, rate-limited record ----------------------------------------

_SAFE_HEADERS = ("User-Agent", "Content-Type", "Content-Length")


def refuse(
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
