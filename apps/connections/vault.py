"""The token vault: the only code that encrypts, decrypts or replaces a Credential's tokens.

Tokens leave the connections app only as the argument of one platform call made through
`call_with_bearer()` or `call_with_fresh_bearer()`. They are never returned to views, put in
task arguments or audit data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from apps.common import crypto
from apps.connections.models import Credential, LinkedAccount
from apps.connections.providers import provider_for
from apps.platforms.errors import AuthReason, Category, PlatformError
from apps.platforms.types import TokenSet

T = TypeVar("T")


class NoCredential(Exception):
    """The account has no stored tokens (disconnected, purged, or never completed)."""


def credential_store(
    *,
    account: LinkedAccount,
    tokens: TokenSet,
    obtained_at: datetime | None = None,
    refreshed: bool = False,
) -> Credential:
    """Encrypt and save a token pair for `account` (replacing any previous pair)."""
    obtained_at = obtained_at or timezone.now()
    defaults = {
        "access_token": crypto.encrypt(tokens.access_token),
        "refresh_token": crypto.encrypt(tokens.refresh_token) if tokens.refresh_token else "",
        "access_expires_at": tokens.expires_at(obtained_at),
        "refresh_expires_at": tokens.refresh_expires_at(obtained_at),
        "obtained_at": obtained_at,
        "refresh_failures": 0,
        "refresh_claimed_until": None,
    }
    if refreshed:
        defaults["last_refreshed_at"] = obtained_at
    credential, _ = Credential.objects.update_or_create(account=account, defaults=defaults)
    return credential


def credential_delete(*, account: LinkedAccount) -> bool:
    deleted, _ = Credential.objects.filter(account=account).delete()
    return bool(deleted)


def _load(account_id: int, *, for_update: bool = False) -> Credential:
    qs = Credential.objects.all()
    if for_update:
        qs = qs.select_for_update()
    try:
        return qs.get(account_id=account_id)
    except Credential.DoesNotExist:
        raise NoCredential(f"Account {account_id} has no stored credential.") from None


def access_token_of(credential: Credential) -> str:
    return crypto.decrypt(credential.access_token)


def refresh_token_of(credential: Credential) -> str:
    if not credential.refresh_token:
        return ""
    return crypto.decrypt(credential.refresh_token)


def call_with_bearer(account: LinkedAccount, call: Callable[[str], T]) -> T:
    """Run `call(access_token)` with the account's current access token."""
    credential = _load(account.pk)
    return call(access_token_of(credential))


# A token this close to its expiry is refreshed before use rather than sent to fail.
EXPIRY_SKEW = timedelta(seconds=60)


def call_with_fresh_bearer(account: LinkedAccount, call: Callable[[str], T]) -> T:
    """Run `call(access_token)`, refreshing at most once when the token is expired.

    Where the platform's access tokens are short-lived and refreshable (TikTok, PLATFORMS §4.1),
    a token past its expiry is refreshed first, and an "expired" answer is met with one refresh
    and one retry. A second "expired" right after a successful refresh is not routine: the
    account moves to `needs_reconnect` with that evidence and the error is raised. Never loops.
    """
    from apps.connections.services import refresh  # the refresh service builds on the vault

    credential = _load(account.pk)
    if not provider_for(account.platform).reactive_refresh:
        return call(access_token_of(credential))
    refreshed = False
    if (
        credential.access_expires_at
        and credential.access_expires_at <= timezone.now() + EXPIRY_SKEW
    ):
        refreshed = refresh.account_refresh(account_id=account.pk, force=True).ok
        credential = _load(account.pk)
    try:
        return call(access_token_of(credential))
    except PlatformError as error:
        if refreshed or not _is_expired(error):
            if refreshed and _is_expired(error):
                raise refresh.refused_fresh_token(account_id=account.pk, error=error) from None
            raise
        if not refresh.account_refresh(account_id=account.pk, force=True).ok:
            raise
    try:
        return call(access_token_of(_load(account.pk)))
    except PlatformError as error:
        if _is_expired(error):
            raise refresh.refused_fresh_token(account_id=account.pk, error=error) from None
        raise


def _is_expired(error: PlatformError) -> bool:
    return error.category == Category.AUTH and error.auth_reason == AuthReason.EXPIRED


def locked_credential(account: LinkedAccount) -> Credential:
    """The credential row, locked for the rest of the transaction (serializes refreshes)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("locked_credential() must run inside a transaction.")
    return _load(account.pk, for_update=True)


def rotate_all_keys() -> int:
    """Re-encrypt every stored token with the newest key; returns the number of credentials."""
    count = 0
    for pk in Credential.objects.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            credential = Credential.objects.select_for_update().get(pk=pk)
            credential.access_token = crypto.rotate(credential.access_token)
            if credential.refresh_token:
                credential.refresh_token = crypto.rotate(credential.refresh_token)
            credential.save(update_fields=["access_token", "refresh_token"])
        count += 1
    return count
