"""The failure policy: PLATFORMS §4 as code — what a platform failure means for an account's
state and capability.

One table, read by health checks, refreshes and (later) the publish pipeline, so "what does a
190/460 mean" is answered in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from apps.connections.lifecycle import account_set_capability, account_transition, can_transition
from apps.connections.models import Capability, LinkedAccount, State
from apps.connections.providers import provider_for
from apps.platforms.errors import AuthReason, Category, PlatformError

# Codes that mean "the token is fine but this account may not post" (PLATFORMS §4.11).
POSTING_RESTRICTED_CODES = frozenset(
    {"spam_risk_user_banned_from_posting", "25/2207050", "2207050"}
)
# Codes that mean the app itself can only post privately (PLATFORMS §4.14).
INELIGIBLE_CODES = frozenset({"unaudited_client_can_only_post_to_private_accounts"})


@dataclass(frozen=True)
class Verdict:
    """What an error does to an account: a state to move to and/or a capability to set."""

    state: State | None
    reason: str
    capability: Capability | None = None
    capability_until_s: int | None = None
    # The evidence, "<category>:<platform code>", stored with the capability (what lifts it).
    capability_code: str = ""


# A posting restriction learned from an error is tested again after this long where the
# platform's probes can't see it (Instagram's 25/2207050 shows only when publishing).
RESTRICTION_RETEST_S = 24 * 3600


def verdict_for(error: PlatformError, *, during: str) -> Verdict:
    """Map a PlatformError met `during` ("check", "refresh", "publish") to a Verdict."""
    verdict = _verdict_for(error, during=during)
    if verdict.capability is None:
        return verdict
    return Verdict(
        verdict.state,
        verdict.reason,
        verdict.capability,
        verdict.capability_until_s,
        capability_code=f"{error.category}:{error.code}",
    )


def _verdict_for(error: PlatformError, *, during: str) -> Verdict:
    if error.category == Category.AUTH:
        reason = error.auth_reason
        if reason == AuthReason.REVOKED:
            return Verdict(State.REVOKED_ON_PLATFORM, error.message)
        if reason == AuthReason.CHECKPOINT:
            return Verdict(State.NEEDS_RECONNECT, error.message, Capability.POSTING_RESTRICTED)
        if reason == AuthReason.SCOPE_MISSING:
            return Verdict(State.NEEDS_RECONNECT, error.message, Capability.MISSING_SCOPE)
        if (
            reason == AuthReason.EXPIRED
            and during != "refresh"
            and provider_for(error.platform).reactive_refresh
        ):
            # A short-lived access token expiring is routine; a refresh fixes it (PLATFORMS §4.1).
            return Verdict(State.REFRESH_FAILING, error.message)
        return Verdict(State.NEEDS_RECONNECT, error.message)
    if error.code in POSTING_RESTRICTED_CODES:
        return Verdict(None, error.message, Capability.POSTING_RESTRICTED, RESTRICTION_RETEST_S)
    if error.code in INELIGIBLE_CODES:
        return Verdict(None, error.message, Capability.ACCOUNT_INELIGIBLE)
    if error.category == Category.QUOTA:
        return Verdict(
            None, error.message, Capability.QUOTA_EXHAUSTED, error.retry_after or 24 * 3600
        )
    if during == "refresh" and error.category in (Category.TRANSIENT, Category.RATE_LIMIT):
        return Verdict(State.REFRESH_FAILING, error.message)
    # Transient trouble during a check, content errors etc. leave the state alone.
    return Verdict(None, error.message)


def account_apply_error(
    *, account: LinkedAccount, error: PlatformError, during: str, actor_label: str = "system"
) -> Verdict:
    """Record the error on the account and move state/capability per the table."""
    verdict = verdict_for(error, during=during)
    account.last_error_code = error.code[:100]
    account.last_error_message = error.message[:500]
    account.save(update_fields=["last_error_code", "last_error_message"])
    if verdict.capability is not None:
        until = (
            timezone.now() + timedelta(seconds=verdict.capability_until_s)
            if verdict.capability_until_s
            else None
        )
        account_set_capability(
            account=account,
            capability=verdict.capability,
            reason=verdict.reason,
            until=until,
            code=verdict.capability_code,
            actor_label=actor_label,
        )
    if (
        verdict.state is not None
        and verdict.state != account.state
        and can_transition(account.state, verdict.state)
    ):
        account_transition(
            account=account,
            to=verdict.state,
            reason=verdict.reason,
            actor_label=actor_label,
            data={"error_code": error.code, "during": during},
        )
    return verdict


def account_record_success(
    *, account: LinkedAccount, actor: Any = None, actor_label: str = "system"
) -> None:
    """Evidence that the account works: clear errors; leave refresh_failing/needs_* if any."""
    now = timezone.now()
    account.last_checked_at = now
    account.last_ok_at = now
    account.last_error_code = ""
    account.last_error_message = ""
    account.save(
        update_fields=["last_checked_at", "last_ok_at", "last_error_code", "last_error_message"]
    )
    if account.state == State.REFRESH_FAILING:
        account_transition(
            account=account,
            to=State.ACTIVE,
            reason="The platform accepted the token again",
            actor=actor,
            actor_label=actor_label,
        )
