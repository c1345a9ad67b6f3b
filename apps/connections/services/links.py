"""Connect links: a signed, expiring, single-use link the brand opens on its own device."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.core.signing import BadSignature, Signer
from django.db import transaction
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.clients.models import Client
from apps.connections.models import ConnectLink, Platform

_signer = Signer(salt="switchboard.connect-link")


def link_url(token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/connect/{_signer.sign(token)}/"


def link_from_signed(signed: str) -> ConnectLink | None:
    """The link a signed token names, or None when the signature or token is unknown."""
    try:
        token = _signer.unsign(signed)
    except BadSignature:
        return None
    return (
        ConnectLink.objects.select_related("client")
        .filter(token_hash=ConnectLink.hash_token(token))
        .first()
    )


@transaction.atomic
def connect_link_create(
    *, client: Client, platform: str, actor: Any, email: str = "", days: int = 7
) -> tuple[ConnectLink, str]:
    """Create a link (and email it when `email` is given). Returns the link and its URL."""
    platform = Platform(platform)
    if not 1 <= days <= 30:
        raise ValueError("A connect link lives between 1 and 30 days.")
    token = secrets.token_urlsafe(32)
    link = ConnectLink.objects.create(
        client=client,
        platform=platform,
        token_hash=ConnectLink.hash_token(token),
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=days),
        sent_to=email,
    )
    url = link_url(token)
    audit_record(
        action=AuditAction.CONNECT_LINK_CREATED,
        actor=actor,
        client=client,
        target=link,
        target_label=f"{link.get_platform_display()} connect link",
        data={"sent_to": email, "expires_at": link.expires_at.isoformat()},
    )
    if email:
        transaction.on_commit(lambda: _send(link, url, email))
    return link, url


def _send(link: ConnectLink, url: str, email: str) -> None:
    send_mail(
        subject=f"Connect your {link.get_platform_display()} account for {link.client.name}",
        message=(
            f"Hello,\n\n{settings.AGENCY_NAME} asks you to connect the "
            f"{link.get_platform_display()} account of {link.client.name} so they can publish "
            "for you.\n\n"
            f"Open this link on a device where you can sign in to {link.get_platform_display()}:\n"
            f"{url}\n\nThe link works once and expires on {link.expires_at:%d %B %Y}.\n"
        ),
        from_email=None,
        recipient_list=[email],
    )


@transaction.atomic
def connect_link_revoke(
    *, link: ConnectLink, actor: Any, audit_data: dict[str, Any] | None = None
) -> ConnectLink:
    """Revoke an open link (a used or revoked one is returned unchanged). `audit_data` joins the
    event's data (a handoff's id)."""
    link = ConnectLink.objects.select_for_update().get(pk=link.pk)
    if link.revoked_at or link.used_at:
        return link
    link.revoked_at = timezone.now()
    link.revoked_by = actor
    link.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        action=AuditAction.CONNECT_LINK_REVOKED,
        actor=actor,
        client=link.client,
        target=link,
        target_label=f"{link.get_platform_display()} connect link",
        data=dict(audit_data or {}),
    )
    return link
