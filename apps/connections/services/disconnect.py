"""Two-sided disconnect (DESIGN §5): revoke at the platform, delete our tokens, record which side
is done. `disconnect_pending` is retried by a schedule until it reaches `disconnected`."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from apps.common.jobs import enqueue
from apps.connections import adapters, vault
from apps.connections.lifecycle import account_transition
from apps.connections.models import LinkedAccount, State
from apps.platforms.errors import Category, PlatformError

logger = logging.getLogger(__name__)

MAX_REVOKE_ATTEMPTS = 8
REVOKE_TASK = "apps.connections.tasks.revoke_at_platform"


def on_account_blocked(*, account: LinkedAccount, reason: str) -> int:
    """Cancel the account's pending publish work with `reason`. Publishing (a later issue)
    registers its canceller here; until then there is nothing to cancel."""
    from apps.connections import hooks

    return sum(cancel(account=account, reason=reason) for cancel in hooks.BLOCKED_ACCOUNT_HANDLERS)


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
    account_transition(
        account=account, to=State.DISCONNECT_PENDING, reason=f"Disconnected by {actor}", actor=actor
    )
    on_account_blocked(account=account, reason="The account was disconnected.")
    enqueue(REVOKE_TASK, account.pk)
    return account


def _pending_account(account_id: int) -> LinkedAccount:
    return (
        LinkedAccount.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=account_id)
    )


def account_revoke_at_platform(*, account_id: int) -> str:
    """Revoke at the platform and delete our tokens; idempotent and safe to retry.

    The platform call runs outside any transaction: TikTok answers a revoke with an
    `authorization.removed` webhook (reason 5) that our receiver handles by locking this same
    account row, and the sandbox sends it before answering.
    """
    with transaction.atomic():
        account = _pending_account(account_id)
        if account.state != State.DISCONNECT_PENDING:
            return f"skipped: account is {account.state}"
        try:
            token = vault.access_token_of(vault.locked_credential(account))
        except vault.NoCredential:
            return _finish(
                account,
                done=False,
                note="No token was left to revoke with; nothing to do on the platform.",
            )
    failure: PlatformError | None = None
    revoked = False
    try:
        revoked = adapters.revoke(platform=account.platform, access_token=token)
    except PlatformError as error:
        failure = error
    with transaction.atomic():
        account = _pending_account(account_id)
        if account.state != State.DISCONNECT_PENDING:
            return f"skipped: account is {account.state}"
        if failure is not None:
            return _revoke_failed(account, failure)
        if account.platform == "tiktok":
            return _finish(account, done=True, note="Revoked at TikTok.")
        note = (
            "Instagram has no documented revoke endpoint for this login; the best-effort "
            + (
                "permission removal succeeded."
                if revoked
                else "permission removal was not accepted."
            )
            + " Tokens deleted on our side."
        )
        return _finish(account, done=bool(revoked), note=note)


def _revoke_failed(account: LinkedAccount, error: PlatformError) -> str:
    if error.category == Category.AUTH:
        # The platform no longer accepts the token: its side is already gone.
        return _finish(
            account,
            done=True,
            note=f"The platform already considered the token invalid ({error.code}).",
        )
    account.revoke_attempts += 1
    if account.revoke_attempts >= MAX_REVOKE_ATTEMPTS:
        return _finish(
            account,
            done=False,
            note=f"Platform revoke failed {account.revoke_attempts} times ({error.code}); "
            "tokens deleted on our side. Remove the app in the platform's settings "
            "to be sure.",
        )
    account.platform_revoke_note = (
        f"Revoke attempt {account.revoke_attempts} failed: {error.message}"[:300]
    )
    account.next_check_at = None
    account.save(update_fields=["revoke_attempts", "platform_revoke_note", "next_check_at"])
    logger.info("Revoke of account %s failed (%s); will retry", account.pk, error.code)
    return "retry"


def _finish(account: LinkedAccount, *, done: bool, note: str) -> str:
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
    return "disconnected"


def pending_revokes() -> list[int]:
    return list(
        LinkedAccount.objects.filter(state=State.DISCONNECT_PENDING).values_list("pk", flat=True)
    )
