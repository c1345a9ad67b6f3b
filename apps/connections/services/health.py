"""Health checks: the cheapest identity call, on a spread-out schedule and on demand."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.connections import outcomes, vault
from apps.connections.lifecycle import account_transition
from apps.connections.models import LinkedAccount, State
from apps.connections.outcomes import Outcome
from apps.connections.providers import provider_for
from apps.connections.services import capability
from apps.connections.services.failure_policy import account_apply_error, account_record_success
from apps.platforms.errors import PlatformError

CHECKABLE_STATES = (State.ACTIVE, State.REFRESH_FAILING, State.NEEDS_RECONNECT)


def check_interval() -> timedelta:
    return timedelta(seconds=settings.CONNECTION_CHECK_INTERVAL)


def spread_offset(account_id: int) -> timedelta:
    """A stable offset within the interval so checks of many accounts don't land together."""
    digest = hashlib.sha256(str(account_id).encode()).digest()
    fraction = int.from_bytes(digest[:4], "big") / 2**32
    return check_interval() * fraction


def schedule_next_check(account: LinkedAccount) -> None:
    now = timezone.now()
    next_at = now + check_interval()
    recheck = capability.next_capability_recheck(account)
    if recheck is not None and now < recheck < next_at:
        # A cap or restriction with an end: look again right after it, not hours later.
        next_at = recheck + timedelta(minutes=1)
    account.next_check_at = next_at
    account.save(update_fields=["next_check_at"])


def account_check(*, account_id: int, actor: Any = None) -> Outcome:
    """Probe the platform with the account's token and move its state by PLATFORMS §4.

    Two calls: the cheapest identity call (is the token good, is it still the same account),
    then the capability probe (TikTok creator info, Instagram publishing limit), which reports
    posting bans and daily caps before a post has to fail on them.
    """
    account = LinkedAccount.objects.select_related("client").get(pk=account_id)
    if account.state not in CHECKABLE_STATES:
        return outcomes.skipped(f"account is {account.state}")
    try:
        provider = provider_for(account.platform)
        probed = vault.call_with_fresh_bearer(account, provider.probe_identity)
    except vault.NoCredential:
        return outcomes.skipped("no credential")
    except PlatformError as error:
        with transaction.atomic():
            account = LinkedAccount.objects.select_for_update().get(pk=account.pk)
            account.last_checked_at = timezone.now()
            account.save(update_fields=["last_checked_at"])
            account_apply_error(account=account, error=error, during="check")
            _audit_check(account, actor, ok=False, code=error.code)
            schedule_next_check(account)
        return outcomes.check_failed(error.code)
    with transaction.atomic():
        account = LinkedAccount.objects.select_for_update().get(pk=account.pk)
        if probed.external_id and probed.external_id != account.external_id:
            if account.state != State.NEEDS_RECONNECT:
                account_transition(
                    account=account,
                    to=State.NEEDS_RECONNECT,
                    reason="The token now belongs to a different platform account",
                )
            schedule_next_check(account)
            return outcomes.check_failed("identity changed")
        account_record_success(account=account, actor=actor)
        capability.account_note_identity(account, professional=probed.professional)
        if actor is not None:
            _audit_check(account, actor, ok=True)
        schedule_next_check(account)
    if account.state == State.ACTIVE and capability.capability_probe_wanted(account):
        _check_capability(account)
    return outcomes.checked()


def _check_capability(account: LinkedAccount) -> None:
    """The capability probe, outside any transaction; its answer is committed after."""
    try:
        provider = provider_for(account.platform)
        report = vault.call_with_fresh_bearer(
            account,
            lambda token: provider.probe_capability(token, external_id=account.external_id),
        )
    except vault.NoCredential:
        return
    except PlatformError as error:
        with transaction.atomic():
            account = LinkedAccount.objects.select_for_update().get(pk=account.pk)
            account.capability_checked_at = timezone.now()
            account.save(update_fields=["capability_checked_at"])
            account_apply_error(account=account, error=error, during="check")
            schedule_next_check(account)
        return
    with transaction.atomic():
        account = LinkedAccount.objects.select_for_update().get(pk=account.pk)
        if account.state == State.ACTIVE:
            capability.account_apply_report(account, report)
            schedule_next_check(account)


def _audit_check(account: LinkedAccount, actor: Any, *, ok: bool, code: str = "") -> None:
    # Scheduled successful checks are not audited (they would drown the log); manual checks and
    # failures are.
    audit_record(
        action=AuditAction.CONNECTION_CHECKED,
        actor=actor,
        actor_label=None if actor is not None else "system",
        client=account.client,
        target=account,
        data={"ok": ok, "error_code": code},
    )


def claim_due_checks(*, limit: int = 200) -> list[int]:
    """Accounts due for a check, each claimed by pushing its next check a full interval ahead
    (a conditional update: one sweep wins); the check reschedules it when it runs."""
    now = timezone.now()
    return [
        pk
        for pk in accounts_due_for_check(limit=limit)
        if LinkedAccount.objects.filter(pk=pk, next_check_at__lte=now).update(
            next_check_at=now + check_interval()
        )
    ]


def accounts_due_for_check(*, limit: int = 200) -> list[int]:
    now = timezone.now()
    return list(
        LinkedAccount.objects.filter(state__in=CHECKABLE_STATES, next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:limit]
    )
