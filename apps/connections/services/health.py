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
from apps.connections import adapters, vault
from apps.connections.lifecycle import account_set_capability, account_transition
from apps.connections.models import Capability, LinkedAccount, State
from apps.connections.services.refresh import account_refresh
from apps.connections.services.signals import account_apply_error, account_record_success
from apps.platforms.errors import AuthReason, Category, PlatformError

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
    account.next_check_at = now + check_interval()
    account.save(update_fields=["next_check_at"])


def account_check(*, account_id: int, actor: Any = None) -> str:
    """Probe the platform with the account's token and move its state by PLATFORMS §4."""
    account = LinkedAccount.objects.select_related("client").get(pk=account_id)
    if account.state not in CHECKABLE_STATES:
        return f"skipped: account is {account.state}"
    try:
        probed = vault.call_with_bearer(
            account, lambda token: adapters.probe(account.platform, token)
        )
    except vault.NoCredential:
        return "skipped: no credential"
    except PlatformError as error:
        if (
            error.category == Category.AUTH
            and error.auth_reason == AuthReason.EXPIRED
            and account.platform == "tiktok"
        ):
            # Reactive refresh (DESIGN §5): an expired TikTok access token is routine.
            outcome = account_refresh(account_id=account.pk, force=True)
            if outcome == "refreshed":
                return account_check(account_id=account.pk, actor=actor)
        with transaction.atomic():
            account = LinkedAccount.objects.select_for_update().get(pk=account.pk)
            account.last_checked_at = timezone.now()
            account.save(update_fields=["last_checked_at"])
            account_apply_error(account=account, error=error, during="check")
            _audit_check(account, actor, ok=False, code=error.code)
            schedule_next_check(account)
        return f"error: {error.code}"
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
            return "error: identity changed"
        account_record_success(account=account, actor=actor)
        _update_eligibility(account, professional=probed.professional)
        if actor is not None:
            _audit_check(account, actor, ok=True)
        schedule_next_check(account)
    return "ok"


def _update_eligibility(account: LinkedAccount, *, professional: bool) -> None:
    """An Instagram account switched to personal can't publish (PLATFORMS §4.18); switching
    back restores it. Other capability problems are found by the publishing calls."""
    if not professional:
        changed = account_set_capability(
            account=account,
            capability=Capability.ACCOUNT_INELIGIBLE,
            reason="This Instagram account is no longer professional. In the Instagram app: "
            "Settings → Account type and tools → Switch to professional account.",
        )
    elif (
        account.publish_capability == Capability.ACCOUNT_INELIGIBLE
        and account.platform == "instagram"
    ):
        changed = account_set_capability(account=account, capability=Capability.OK)
    elif (
        account.publish_capability == Capability.QUOTA_EXHAUSTED
        and account.capability_until is not None
        and account.capability_until <= timezone.now()
    ):
        # The daily window has passed: the cap no longer applies.
        changed = account_set_capability(account=account, capability=Capability.OK)
    else:
        return
    if changed:
        audit_record(
            action=AuditAction.CONNECTION_CAPABILITY_CHANGED,
            actor=None,
            actor_label="system",
            client=account.client,
            target=account,
            data={"capability": account.publish_capability, "reason": account.capability_reason},
        )


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


def accounts_due_for_check(*, limit: int = 200) -> list[int]:
    now = timezone.now()
    return list(
        LinkedAccount.objects.filter(state__in=CHECKABLE_STATES, next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:limit]
    )
