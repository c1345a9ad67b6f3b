"""Publishing capability (DESIGN §5): what a health check learns about it, and what lifts each
problem again. Every capability problem has a way back:

- missing_scope: a reconnect whose grant holds the publishing scopes (services/oauth.py).
- posting_restricted after a checkpoint (code "auth:…"): the identity probe succeeding again —
  the owner cleared the checkpoint and reconnected.
- posting_restricted after a ban: a capability probe that can see bans reporting none (TikTok's
  creator info); where the probe can't see one (Instagram), the restriction is tested again once
  its `capability_until` has passed, and the next publishing call confirms or refutes it.
- quota_exhausted: a capability probe showing posts left, or its `capability_until` passing.
- account_ineligible: an Instagram account seen as professional again by the identity probe; a
  TikTok account an unaudited app may post to (private) in creator info.
- unknown: the first capability probe that succeeds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from apps.connections.lifecycle import account_set_capability
from apps.connections.models import Capability, LinkedAccount
from apps.connections.providers import CapabilityReport, provider_for
from apps.platforms.instagram import rules as instagram_rules

PERSONAL_ACCOUNT_CODE = "identity:personal"
QUOTA_USED_CODE = "quota:quota_usage"
PERSONAL_ACCOUNT_REASON = (
    "This Instagram account is no longer professional, so it can't publish. To fix it, "
    f"{instagram_rules.SWITCH_TO_PROFESSIONAL}."
)


def _set(
    account: LinkedAccount,
    capability: Capability,
    *,
    reason: str = "",
    until: datetime | None = None,
    code: str = "",
) -> bool:
    return account_set_capability(
        account=account, capability=capability, reason=reason, until=until, code=code
    )


def _expired(account: LinkedAccount, now: datetime) -> bool:
    return account.capability_until is not None and account.capability_until <= now


def account_note_identity(account: LinkedAccount, *, professional: bool) -> bool:
    """The identity probe succeeded; apply what it proves. True when the capability changed."""
    now = timezone.now()
    capability, code = account.publish_capability, account.capability_code
    if not professional:
        return _set(
            account,
            Capability.ACCOUNT_INELIGIBLE,
            reason=PERSONAL_ACCOUNT_REASON,
            code=PERSONAL_ACCOUNT_CODE,
        )
    lifted = (
        (capability == Capability.ACCOUNT_INELIGIBLE and code in (PERSONAL_ACCOUNT_CODE, ""))
        or (capability == Capability.POSTING_RESTRICTED and code.startswith("auth:"))
        or (
            capability in (Capability.QUOTA_EXHAUSTED, Capability.POSTING_RESTRICTED)
            and _expired(account, now)
        )
    )
    if not lifted:
        return False
    # The capability probe that follows in the same check corrects this if needed.
    return _set(account, Capability.OK)


def lifted_by_new_grant(account: LinkedAccount) -> bool:
    """A completed OAuth round trip proves the owner signed in: a checkpoint is cleared."""
    return account.publish_capability == Capability.POSTING_RESTRICTED and (
        account.capability_code.startswith("auth:")
    )


def account_apply_report(account: LinkedAccount, report: CapabilityReport) -> bool:
    """The capability probe succeeded: record what it said and set the capability by it."""
    now = timezone.now()
    account.capability_checked_at = now
    account.capability_detail = report.detail
    account.save(update_fields=["capability_checked_at", "capability_detail"])
    capability, code = account.publish_capability, account.capability_code
    if capability == Capability.MISSING_SCOPE:
        return False  # only a grant with the scopes lifts it
    if report.quota_left is not None and report.quota_left <= 0:
        window = timedelta(seconds=report.quota_window_s or 24 * 3600)
        # The window is rolling and the platform doesn't say when the oldest post leaves it:
        # `until` is the latest it can be; checks until then lift it as soon as a post is free.
        return _set(
            account,
            Capability.QUOTA_EXHAUSTED,
            reason="The platform's publishing limit for its rolling 24 hours is used up; "
            "posts must wait until older ones leave the window.",
            until=now + window,
            code=QUOTA_USED_CODE,
        )
    if (
        capability == Capability.POSTING_RESTRICTED
        and not code.startswith("auth:")
        and not provider_for(account.platform).probe_sees_bans
        and not _expired(account, now)
    ):
        return False
    if capability == Capability.ACCOUNT_INELIGIBLE and (
        code in (PERSONAL_ACCOUNT_CODE, "") or not report.private
    ):
        return False
    return _set(account, Capability.OK)


def capability_probe_wanted(account: LinkedAccount) -> bool:
    """Ask about capability only when the grant could publish at all."""
    return account.publish_capability != Capability.MISSING_SCOPE


def next_capability_recheck(account: LinkedAccount) -> Any:
    """When a time-bound capability problem should be looked at again, if any."""
    if account.publish_capability in (Capability.QUOTA_EXHAUSTED, Capability.POSTING_RESTRICTED):
        return account.capability_until
    return None
