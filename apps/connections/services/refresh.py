"""Token refresh, proactive and reactive (DESIGN §5).

Refresh tokens rotate, so refreshes of one account are serialized: a worker claims the refresh
under the Credential's row lock (`refresh_claimed_until`), calls the platform outside any
transaction, and commits the new pair before anyone uses it. A second worker that finds the claim
does nothing.

A routine success is an `AccountAttempt` row, not an audit event; failures and state changes are
audited (DESIGN §5).
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.connections import outcomes, vault
from apps.connections.lifecycle import account_transition, can_transition
from apps.connections.models import REFRESHABLE, AccountAttempt, Credential, LinkedAccount, State
from apps.connections.outcomes import Outcome
from apps.connections.providers import all_providers, provider_for
from apps.connections.services.attempts import attempt_call
from apps.connections.services.failure_policy import account_apply_error, account_record_success
from apps.platforms.errors import Category, PlatformError
from apps.platforms.types import TokenSet

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
REFRESHABLE_STATES = tuple(REFRESHABLE)
# How long a claimed refresh keeps other workers away (longer than any platform call takes).
REFRESH_CLAIM = timedelta(minutes=2)

LOST_REPLY_REASON = (
    "The platform replaced the token, but its reply with the new one never arrived, so the old "
    "one no longer works. Reconnect the account."
)


def next_refresh_due(account: LinkedAccount, credential: Credential) -> datetime | None:
    """When the stored token should next be refreshed, from what the platform granted."""
    return provider_for(account.platform).next_refresh_due(
        issued_at=credential.last_refreshed_at or credential.obtained_at,
        access_expires_at=credential.access_expires_at,
    )


def backoff(failures: int) -> timedelta:
    base = timedelta(minutes=2) * (2 ** min(failures, 10))
    return min(base, MAX_BACKOFF) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not crypto


def account_refresh(*, account_id: int, force: bool = False) -> Outcome:
    """Refresh one account's tokens if due (or `force`). Returns what happened, for logs/UI.

    Three short steps, so no database transaction is open during the platform call (the sandbox
    shares our database, and on SQLite an open write transaction would lock it out):
    1. claim the refresh under the credential's row lock (one claimant per account);
    2. call the platform — once more at once if the reply was lost (see `_call_platform`);
    3. commit the new pair (or the failure) and release the claim.
    """
    with transaction.atomic():
        account = LinkedAccount.objects.select_related("client").get(pk=account_id)
        if account.state not in REFRESHABLE_STATES:
            return outcomes.skipped(f"account is {account.state}")
        try:
            credential = vault.locked_credential(account)
        except vault.NoCredential:
            return outcomes.skipped("no credential")
        now = timezone.now()
        if credential.refresh_claimed_until and credential.refresh_claimed_until > now:
            return outcomes.skipped("another refresh is in progress")
        due = credential.next_refresh_at or next_refresh_due(account, credential)
        if not force and due is not None and due > now:
            return outcomes.skipped("not due")
        issued = credential.last_refreshed_at or credential.obtained_at
        not_before = provider_for(account.platform).refresh_not_before(issued)
        if not_before is not None and now < not_before:
            credential.next_refresh_at = not_before
            credential.save(update_fields=["next_refresh_at"])
            return outcomes.skipped(
                f"{account.get_platform_display()} accepts a refresh from "
                f"{not_before:%d %b %H:%M} UTC"
            )
        access_token = vault.access_token_of(credential)
        refresh_token = vault.refresh_token_of(credential)
        credential.refresh_claimed_until = now + REFRESH_CLAIM
        credential.save(update_fields=["refresh_claimed_until"])
    try:
        tokens = attempt_call(
            account_id=account_id,
            kind=AccountAttempt.Kind.REFRESH,
            call=lambda: _call_platform(account, access_token, refresh_token, issued),
        )
    except PlatformError as error:
        with transaction.atomic():
            account = LinkedAccount.objects.select_related("client").get(pk=account_id)
            try:
                credential = vault.locked_credential(account)
            except vault.NoCredential:
                return outcomes.skipped("the credential was deleted during the refresh")
            return _refresh_failed(account, credential, error)
    # Instagram returns no new refresh token: the long-lived token refreshes itself.
    if not tokens.refresh_token and refresh_token:
        tokens = TokenSet(**{**tokens.__dict__, "refresh_token": refresh_token})
    with transaction.atomic():
        account = LinkedAccount.objects.select_related("client").get(pk=account_id)
        try:
            vault.locked_credential(account)
        except vault.NoCredential:
            return outcomes.skipped("the credential was deleted during the refresh")
        now = timezone.now()
        credential = vault.credential_store(
            account=account, tokens=tokens, obtained_at=now, refreshed=True
        )
        credential.next_refresh_at = next_refresh_due(account, credential)
        credential.save(update_fields=["next_refresh_at"])
        if account.expiring_notified_at and account.expiring_deadline() is None:
            # The refresh pushed the deadline away: that expiring episode is over.
            account.expiring_notified_at = None
            account.save(update_fields=["expiring_notified_at"])
        if account.state in REFRESHABLE_STATES:
            account_record_success(account=account)
    return outcomes.refreshed()


class LostRefreshReply(PlatformError):
    """The refresh reply was lost and the platform no longer takes the old refresh token."""


def _call_platform(
    account: LinkedAccount, access_token: str, refresh_token: str, issued: datetime
) -> TokenSet:
    """One refresh call; when its outcome is unknown (timeout, 5xx, lost reply), one more at once.

    A lost reply may hide a rotation: the platform swapped the token pair and the new pair never
    reached us. Asking again with the old refresh token tells which: it works (the first call
    never took effect) or it is refused, and then only a reconnect helps — said as such.
    """

    provider = provider_for(account.platform)

    def call() -> TokenSet:
        return provider.refresh(
            access_token=access_token,
            refresh_token=refresh_token,
            issued_at=issued,
        )

    try:
        return call()
    except PlatformError as first:
        if not first.outcome_unknown:
            raise
        logger.info("Refresh reply for account %s was lost (%s); asking again", account.pk, first)
    try:
        return call()
    except PlatformError as second:
        if second.category != Category.AUTH:
            raise
        raise _reconnect_error(second, LOST_REPLY_REASON, kind=LostRefreshReply) from None


def _refresh_failed(
    account: LinkedAccount, credential: Credential, error: PlatformError
) -> Outcome:
    credential.refresh_claimed_until = None
    if error.code == "token_too_young":
        credential.next_refresh_at = timezone.now() + timedelta(seconds=error.retry_after or 3600)
        credential.save(update_fields=["next_refresh_at", "refresh_claimed_until"])
        return outcomes.skipped("token too young")
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
    state_before = account.state
    if account.state in REFRESHABLE_STATES:
        if isinstance(error, LostRefreshReply):
            account.last_error_code = error.code[:100]
            account.last_error_message = error.message[:500]
            account.save(update_fields=["last_error_code", "last_error_message"])
            account_transition(
                account=account,
                to=State.NEEDS_RECONNECT,
                reason=LOST_REPLY_REASON,
                data={"error_code": error.code, "during": "refresh", "reply_lost": True},
            )
        else:
            account_apply_error(account=account, error=error, during="refresh")
    if account.state == state_before:
        # No state change recorded it: a failed refresh is still audited (DESIGN §5).
        audit_record(
            action=AuditAction.CONNECTION_REFRESH_FAILED,
            actor=None,
            actor_label="system",
            client=account.client,
            target=account,
            data={"error_code": error.code, "failures": credential.refresh_failures},
        )
    logger.info("Refresh of account %s failed: %s", account.pk, error.code)
    return outcomes.failed(error.code)


def refused_fresh_token(*, account_id: int, error: PlatformError) -> PlatformError:
    """The platform called a token "expired" right after we refreshed it: not routine.

    Moves the account to `needs_reconnect` with the evidence and returns the error to raise (an
    auth error without the "expired" reason, so no caller refreshes again).
    """
    message = (
        "The platform refused a token it had just issued, so refreshing doesn't help. "
        "Reconnect the account."
    )
    with transaction.atomic():
        account = (
            LinkedAccount.objects.select_for_update(of=("self",))
            .select_related("client")
            .get(pk=account_id)
        )
        account.last_error_code = error.code[:100]
        account.last_error_message = message
        account.save(update_fields=["last_error_code", "last_error_message"])
        if can_transition(account.state, State.NEEDS_RECONNECT):
            account_transition(
                account=account,
                to=State.NEEDS_RECONNECT,
                reason=message,
                data={"error_code": error.code, "after_refresh": True},
            )
    return _reconnect_error(error, message)


def _reconnect_error(
    error: PlatformError, message: str, *, kind: type[PlatformError] = PlatformError
) -> PlatformError:
    """The platform's error restated as "a reconnect is needed": an auth error with no reason
    (so no caller refreshes again) and our own sentence."""
    return kind(
        platform=error.platform,
        category=Category.AUTH,
        code=error.code,
        message=message,
        http_status=error.http_status,
        log_id=error.log_id,
    )


def claim_due_refreshes(*, limit: int = 200) -> list[int]:
    """Accounts due for a refresh, each claimed by moving its `next_refresh_at` past the claim
    window (a conditional update: one sweep wins); the refresh sets the real next time."""
    now = timezone.now()
    return [
        account_id
        for account_id in accounts_due_for_refresh(limit=limit)
        if Credential.objects.filter(account_id=account_id, next_refresh_at__lte=now).update(
            next_refresh_at=now + REFRESH_CLAIM
        )
    ]


def accounts_due_for_refresh(*, limit: int = 200) -> list[int]:
    """Accounts whose token should be refreshed now.

    Instagram: when due (the long-lived token must be renewed to live). Short-lived, refreshable
    tokens (TikTok): only when the token will be needed before it expires — its next health
    check falls within its life — or the account is already failing to refresh. An idle account
    is not refreshed every two hours; the next call that needs it refreshes it first
    (vault.call_with_fresh_bearer).
    """
    now = timezone.now()
    reactive = [p.platform for p in all_providers() if p.reactive_refresh]
    needed = (
        ~Q(account__platform__in=reactive)
        | Q(account__state=State.REFRESH_FAILING)
        | Q(access_expires_at__gt=now)
        & (
            Q(account__next_check_at__isnull=True)
            | Q(account__next_check_at__lte=F("access_expires_at"))
        )
    )
    return list(
        Credential.objects.filter(account__state__in=REFRESHABLE_STATES, next_refresh_at__lte=now)
        .filter(needed)
        .order_by("next_refresh_at")
        .values_list("account_id", flat=True)[:limit]
    )
