"""Instagram's callbacks (PLATFORMS §2): deauthorize and data deletion, each a signed_request form.

Loaded by `InstagramProvider.receive_webhook` on first use: it builds on the shared machinery in
`apps.connections.services.webhooks`, which needs the models, which need the provider registry.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.connections import vault
from apps.connections.models import LinkedAccount, WebhookEvent
from apps.connections.services.webhooks import (
    IGNORED_BEFORE_GRANT,
    MAX_BODY_BYTES,
    WebhookOutcome,
    WebhookRejected,
    issued_before_grant,
    live_account,
    mark_revoked,
    processed,
    refuse,
    store,
)
from apps.platforms.instagram.signed_request import (
    FORM_FIELD,
    SignedRequest,
    SignedRequestError,
    parse_signed_request,
)
from apps.platforms.types import Platform

Kind = WebhookEvent.Kind


def _store_instagram(
    kind: str, event_type: str, parsed: Any, **fields: Any
) -> tuple[WebhookEvent, bool]:
    """Store a verified Instagram callback, deduplicated on its decoded payload."""
    return store(
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
            result = mark_revoked(
                _instagram_account(parsed.user_id),
                "The user removed Switchboard in Instagram's settings.",
                "webhook:instagram",
                {"callback": "deauthorize"},
                issued_at=parsed.issued_at,
            )
            processed(stored, result)
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
            processed(stored, _purge_instagram_user(parsed.user_id, issued_at=parsed.issued_at))
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
    def refused(error: str) -> WebhookRejected:
        return refuse(
            platform=Platform.INSTAGRAM,
            kind=kind,
            error=error,
            raw_body=raw_body,
            headers=headers,
            signature=(FORM_FIELD, signed_request),
        )

    if len(raw_body) > MAX_BODY_BYTES or len(signed_request or "") > MAX_BODY_BYTES:
        raise refused("body too large")
    try:
        return parse_signed_request(signed_request=signed_request)
    except SignedRequestError as exc:
        raise refused(str(exc)) from None


def _payload_key(kind: str, parsed: SignedRequest) -> str:
    """Dedupe on what Meta signed, decoded: other spellings of one callback are the same event."""
    return hashlib.sha256(kind.encode() + b"\n" + parsed.canonical_payload).hexdigest()


def _instagram_account(app_scoped_id: str) -> LinkedAccount | None:
    return live_account(Platform.INSTAGRAM, app_scoped_id=app_scoped_id) or live_account(
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
        if issued_before_grant(account, issued_at):
            kept += 1
            continue
        mark_revoked(
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
