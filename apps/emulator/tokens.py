"""Issuing, checking and revoking sandbox codes and tokens (both platforms)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from apps.emulator import clock
from apps.emulator.common import random_token
from apps.emulator.models import SandboxAccount, SandboxToken

PREFIXES = {
    SandboxToken.Kind.TT_CODE: "sbxcode-",
    SandboxToken.Kind.TT_ACCESS: "act.",
    SandboxToken.Kind.TT_REFRESH: "rft.",
    SandboxToken.Kind.IG_CODE: "AQ",
    SandboxToken.Kind.IG_SHORT: "IGAAS",
    SandboxToken.Kind.IG_LONG: "IGAAL",
}


def issue(
    *,
    kind: str,
    account: SandboxAccount,
    scopes: Iterable[str],
    ttl: int,
    redirect_uri: str = "",
    expires_at: dt.datetime | None = None,
    code_challenge: str = "",
) -> SandboxToken:
    """Mint a token valid for `ttl` sandbox seconds (or until `expires_at` when given)."""
    issued = clock.now()
    return SandboxToken.objects.create(
        kind=kind,
        value=random_token(PREFIXES[SandboxToken.Kind(kind)], 32),
        account=account,
        scopes=",".join(scopes),
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        issued_at=issued,
        expires_at=expires_at or issued + dt.timedelta(seconds=ttl),
        password_version=account.password_version,
    )


def find(value: str, kinds: Iterable[str]) -> SandboxToken | None:
    if not value:
        return None
    return (
        SandboxToken.objects.select_related("account").filter(value=value, kind__in=kinds).first()
    )


def problem(token: SandboxToken | None) -> str | None:
    """Why `token` can't be used right now, or None. Reasons, checked in this order:

    missing, revoked (revoked_reason tells which: revoked, rotated, app_removed, …),
    password_changed, checkpointed, expired, used (codes).
    """
    if token is None:
        return "missing"
    if token.revoked_at is not None:
        return token.revoked_reason or "revoked"
    if token.password_version != token.account.password_version:
        return "password_changed"
    if token.account.checkpointed:
        return "checkpointed"
    if token.expires_at <= clock.now():
        return "expired"
    if token.used_at is not None:
        return "used"
    return None


def remaining_seconds(token: SandboxToken) -> int:
    return max(0, round((token.expires_at - clock.now()).total_seconds()))


def revoke(token: SandboxToken, reason: str) -> None:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.revoked_reason = reason
        token.save(update_fields=["revoked_at", "revoked_reason"])


def revoke_all(account: SandboxAccount, reason: str) -> int:
    """Revoke every live token and code of `account`; returns how many."""
    return SandboxToken.objects.filter(account=account, revoked_at__isnull=True).update(
        revoked_at=clock.now(), revoked_reason=reason
    )
