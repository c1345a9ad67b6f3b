"""Token refresh, proactive and reactive (DESIGN §5).

Refresh tokens rotate, so refreshes of one account are serialized: a worker claims the refresh
under the Credential's row lock (`refresh_claimed_until`), calls the platform outside any
transaction, and commits the new pair before anyone uses it. A second worker that finds the claim
does nothing.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.connections import adapters, vault
from apps.connections.models import Credential, LinkedAccount, State
from apps.connections.services.signals import account_apply_error, account_record_success
from apps.platforms.errors import PlatformError

logger = logging.getLogger(__name__)

# TikTok access tokens live 24 h: refresh when less than this is left (PLATFORMS §1.3).
TIKTOK_REFRESH_MARGIN = timedelta(hours=2)
# Instagram long-lived tokens (60 days) can be refreshed once 24 h old (PLATFORMS §2.5); we do it
# weekly, far ahead of the ~day-50 deadline.
INSTAGRAM_REFRESH_AGE = timedelta(days=7)
INSTAGRAM_MIN_AGE = timedelta(hours=24)
MAX_BACKOFF = timedelta(hours=6)
REFRESHABLE_STATES = (State.ACTIVE, State.REFRESH_FAILING)
# How long a claimed refresh keeps other workers away (longer than any platform call takes).
REFRESH_CLAIM = timedelta(minutes=2)


def next_refresh_due(account: LinkedAccount, credential: Credential) -> datetime | None:
    issued = credential.last_refreshed_at or credential.obtained_at
    if account.platform == "tiktok":
        if credential.access_expires_at is None:
            return None
        return credential.access_expires_at - TIKTOK_REFRESH_MARGIN
    return issued + INSTAGRAM_REFRESH_AGE


def backoff(failures: int) -> timedelta:
    base = timedelta(minutes=2) * (2 ** min(failures, 10))
    return min(base, MAX_BACKOFF) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not crypto


def account_refresh(*, account_id: int, force: bool = False) -> str:
    """Refresh one account's tokens if due (or `force`). Returns what happened, for logs/UI.

    Three short steps, so no database transaction is open during the platform call (the sandbox
    shares our database, and on SQLite an open write transaction would lock it out):
    1. claim the refresh under the credential's row lock (one claimant per account);
    2. call the platform;
    3. commit the new pair (or the failure) and release the claim.
    """
    with transaction.atomic():
        account = LinkedAccount.objects.select_related("client").get(pk=account_id)
        if account.state not in REFRESHABLE_STATES:
            return f"skipped: account is {account.state}"
        try:
            credential = vault.locked_credential(account)
        except vault.NoCredential:
            return "skipped: no credential"
        now = timezone.now()
        if credential.refresh_claimed_until and credential.refresh_claimed_until > now:
            return "skipped: another refresh is in progress"
        due = credential.next_refresh_at or next_refresh_due(account, credential)
        if not force and due is not None and due > now:
            return "skipped: not due"
        issued = credential.last_refreshed_at or credential.obtained_at
        if account.platform == "instagram" and now - issued < INSTAGRAM_MIN_AGE:
            credential.next_refresh_at = issued + INSTAGRAM_MIN_AGE
            credential.save(update_fields=["next_refresh_at"])
            return "skipped: Instagram tokens can be refreshed once they are 24 hours old"
        access_token = vault.access_token_of(credential)
        refresh_token = vault.refresh_token_of(credential)
        credential.refresh_claimed_until = now + REFRESH_CLAIM
        credential.save(update_fields=["refresh_claimed_until"])
    try:
        tokens = adapters.refresh(
            platform=account.platform,
            access_token=access_token,
            refresh_token=refresh_token,
            issued_at=issued,
        )
    except PlatformError as error:
        with transaction.atomic():
            account = LinkedAccount.objects.select_related("client").get(pk=account_id)
            try:
                credential = vault.locked_credential(account)
            except vault.NoCredential:
                return "skipped: the credential was deleted during the refresh"
            return _refresh_failed(account, credential, error)
    # Instagram returns no new refresh token: the long-lived token refreshes itself.
    if not tokens.refresh_token and refresh_token:
        tokens = type(tokens)(**{**tokens.__dict__, "refresh_token": refresh_token})
    with transaction.atomic():
        account = LinkedAccount.objects.select_related("client").get(pk=account_id)
        try:
            vault.locked_credential(account)
        except vault.NoCredential:
            return "skipped: the credential was deleted during the refresh"
        now = timezone.now()
        credential = vault.credential_store(
            account=account, tokens=tokens, obtained_at=now, refreshed=True
        )
        credential.next_refresh_at = next_refresh_due(account, credential)
        credential.save(update_fields=["next_refresh_at"])
        audit_record(
            action=AuditAction.CONNECTION_REFRESHED,
            actor=None,
            actor_label="system",
            client=account.client,
            target=account,
            data={"access_expires_at": str(credential.access_expires_at)},
        )
        if account.state in REFRESHABLE_STATES:
            account_record_success(account=account)
    return "refreshed"


def _refresh_failed(account: LinkedAccount, credential: Credential, error: PlatformError) -> str:
    credential.refresh_claimed_until = None
    if error.code == "token_too_young":
        credential.next_refresh_at = timezone.now() + timedelta(seconds=error.retry_after or 3600)
        credential.save(update_fields=["next_refresh_at", "refresh_claimed_until"])
        return "skipped: token too young"
    credential.refresh_failures += 1
    # Every failure waits before the next attempt; otherwise the sweep would repeat a refused
    # refresh every minute (auth failures leave the refreshable states anyway).
    wait = (
        timedelta(seconds=error.retry_after)
        if error.retry_after
        else backoff(credential.refresh_failures)
    )
    credential.next_refresh_at = timezone.now() + wait
    credential.save(update_fields=["refresh_failures", "next_refresh_at", "refresh_claimed_until"])
    if account.state in REFRESHABLE_STATES:
        account_apply_error(account=account, error=error, during="refresh")
    logger.info("Refresh of account %s failed: %s", account.pk, error.code)
    return f"failed: {error.code}"


def accounts_due_for_refresh(*, limit: int = 200) -> list[int]:
    now = timezone.now()
    return list(
        Credential.objects.filter(account__state__in=REFRESHABLE_STATES, next_refresh_at__lte=now)
        .order_by("next_refresh_at")
        .values_list("account_id", flat=True)[:limit]
    )
