"""Two-sided disconnect (DESIGN §5): revoke at the platform, delete our tokens, record which side
is done. `disconnect_pending` is retried by a schedule until it reaches `disconnected`."""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.common.jobs import enqueue
from apps.connections import outcomes, vault
from apps.connections.lifecycle import account_transition
from apps.connections.models import AccountAttempt, LinkedAccount, State
from apps.connections.outcomes import Outcome
from apps.connections.providers import provider_for
from apps.connections.services.attempts import attempt_call
from apps.platforms.errors import Category, PlatformError

logger = logging.getLogger(__name__)

MAX_REVOKE_ATTEMPTS = 8
# The revoke right after a disconnect is enqueued at once; the sweep retries failures after
# 5 min, 10, 20, … (at most 6 h), with jitter, and hands each retry out once (a claim).
FIRST_REVOKE_RETRY = timedelta(minutes=5)
MAX_REVOKE_BACKOFF = timedelta(hours=6)
REVOKE_CLAIM = timedelta(minutes=10)


def revoke_backoff(attempts: int) -> timedelta:
    base = FIRST_REVOKE_RETRY * (2 ** max(attempts - 1, 0))
    return min(base, MAX_REVOKE_BACKOFF) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter


REVOKE_TASK = "apps.connections.tasks.revoke_at_platform"


@transaction.atomic
def account_disconnect(*, account: LinkedAccount, actor: Any) -> LinkedAccount:
    """Start a disconnect: `disconnect_pending` now, the platform revoke right after commit."""
    account = (
        LinkedAccount.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=account.pk)
    )
    if account.state in (State.DISCONNECT_PENDING, State.DISCONNECTED):
        return account  # a double click disconnects once
    account.next_revoke_at = timezone.now() + REVOKE_CLAIM
    account.save(update_fields=["next_revoke_at"])
    account_transition(
        account=account,
        to=State.DISCONNECT_PENDING,
        reason=f"Disconnected by {getattr(actor, 'label', actor)}",
        actor=actor,
    )
    enqueue(REVOKE_TASK, account.pk)
    return account


def _pending_account(account_id: int) -> LinkedAccount:
    return (
        LinkedAccount.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=account_id)
    )


def account_revoke_at_platform(*, account_id: int) -> Outcome:
    """Revoke at the platform and delete our tokens; idempotent and safe to retry.

    The platform call runs outside any transaction: TikTok answers a revoke with an
    `authorization.removed` webhook (reason 5) that our receiver handles by locking this same
    account row, and the sandbox sends it before answering.
    """
    with transaction.atomic():
        account = _pending_account(account_id)
        if account.state != State.DISCONNECT_PENDING:
            return outcomes.skipped(f"account is {account.state}")
        try:
            token = vault.access_token_of(vault.locked_credential(account))
        except vault.NoCredential:
            return _finish(
                account,
                done=False,
                note="No access was left to remove at the platform; the account is disconnected.",
            )
    failure: PlatformError | None = None
    revoked = False
    provider = provider_for(account.platform)
    try:
        revoked = attempt_call(
            account_id=account_id,
            kind=AccountAttempt.Kind.REVOKE,
            call=lambda: provider.revoke(token),
            confirmed=bool,
            unconfirmed="The platform did not confirm the removal.",
        )
    except PlatformError as error:
        failure = error
    with transaction.atomic():
        account = _pending_account(account_id)
        if account.state != State.DISCONNECT_PENDING:
            return outcomes.skipped(f"account is {account.state}")
        if failure is not None:
            return _revoke_failed(account, failure)
        name = account.get_platform_display()
        if revoked:
            note = (
                f"{name} confirmed that Switchboard's access was removed, "
                "and our tokens were deleted."
            )
        else:
            note = (
                f"Switchboard deleted its tokens. {name} did not confirm removing our access; "
                f"the owner can remove Switchboard in {name}'s settings under connected apps."
            )
        return _finish(account, done=revoked, note=note)


def _revoke_failed(account: LinkedAccount, error: PlatformError) -> Outcome:
    if error.category == Category.AUTH:
        # The platform no longer accepts the token: its side is already gone.
        return _finish(
            account,
            done=True,
            note=f"{account.get_platform_display()} had already ended Switchboard's access, "
            "and our tokens were deleted.",
        )
    account.revoke_attempts += 1
    if account.revoke_attempts >= MAX_REVOKE_ATTEMPTS:
        return _finish(
            account,
            done=False,
            note=f"Switchboard deleted its tokens, but {account.get_platform_display()} could "
            f"not be reached to remove our access after {account.revoke_attempts} tries. "
            "The owner can remove Switchboard in the platform's settings under connected apps.",
        )
    account.platform_revoke_note = (
        f"Removing our access at {account.get_platform_display()} failed "
        f"({account.revoke_attempts} of {MAX_REVOKE_ATTEMPTS} tries); trying again shortly. "
        f"{error.message}"
    )[:300]
    account.next_check_at = None
    account.next_revoke_at = timezone.now() + revoke_backoff(account.revoke_attempts)
    account.save(
        update_fields=["revoke_attempts", "platform_revoke_note", "next_check_at", "next_revoke_at"]
    )
    logger.info("Revoke of account %s failed (%s); will retry", account.pk, error.code)
    return outcomes.retry()


def _finish(account: LinkedAccount, *, done: bool, note: str) -> Outcome:
    vault.credential_delete(account=account)
    account.platform_revoke_done = done
    account.platform_revoke_note = note[:300]
    account.save(update_fields=["platform_revoke_done", "platform_revoke_note"])
    account_transition(
        account=account,
        to=State.DISCONNECTED,
        reason=note,
        actor_label="system",
        data={"platform_side_done": done},
    )
    return outcomes.disconnected()


def claim_due_revokes(*, limit: int = 200) -> list[int]:
    """Pending disconnects whose platform revoke is due, each claimed for this sweep only.

    The claim is a conditional update, so two sweeps (two clusters) never hand out the same
    revoke; a claim whose task was lost expires and the revoke is handed out again.
    """
    now = timezone.now()
    due = list(
        LinkedAccount.objects.filter(state=State.DISCONNECT_PENDING, next_revoke_at__lte=now)
        .order_by("next_revoke_at")
        .values_list("pk", flat=True)[:limit]
    )
    return [
        pk
        for pk in due
        if LinkedAccount.objects.filter(pk=pk, next_revoke_at__lte=now).update(
            next_revoke_at=now + REVOKE_CLAIM
        )
    ]
