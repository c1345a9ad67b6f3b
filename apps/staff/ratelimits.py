"""Sign-in limits (settings.ACCOUNT_RATE_LIMITS, enforced by allauth in the shared cache) and how
long someone who hit one waits."""

from __future__ import annotations

import math

from allauth.core.internal import ratelimit as allauth_ratelimit
from allauth.core.internal.ratelimit import get_rates
from django.conf import settings

# Our own action next to allauth's: failed sign-ins per client address, counted only once a
# password proved wrong (apps/staff/adapters.py).
LOGIN_FAILED_PER_ADDRESS = "login_failed_ip"

# The allauth pages that answer 429 → the limit (action) each one applies.
ACTION_BY_VIEW = {
    "account_login": "login",
    "account_reauthenticate": "reauthenticate",
    "account_change_password": "change_password",
    "account_set_password": "change_password",
    "account_email": "manage_email",
    "account_signup": "signup",
    "account_reset_password": "reset_password",
    "account_reset_password_from_key": "reset_password_from_key",
}


def wait_seconds(action: str | None) -> int:
    """The longest period among `action`'s limits: every hit counted now has expired by then, so
    a retry then is accepted. A minute when the action is unknown or has no limit."""
    if action is None:
        return 60
    rates = get_rates(app="allauth.account", action=action)
    return math.ceil(max((rate.duration for rate in rates), default=60))


def wait_text(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def apply_lock_wait() -> None:
    """How long a sign-in waits for the limit's counter in the shared cache.

    allauth guards each counter with a cache lock and treats a wait of over one second as
    "limited" (`CACHE_LOCK_WAIT_TIMEOUT`, not a setting). Everyone in one office shares the
    per-address counter, so fifty people signing in at nine queue for it; on SQLite's database
    cache that queue passed a second and correct passwords were refused (429). The critical
    section is a cache read and write, so a longer wait costs nothing but time.
    """
    if not hasattr(allauth_ratelimit, "CACHE_LOCK_WAIT_TIMEOUT"):  # pragma: no cover
        raise RuntimeError("allauth renamed CACHE_LOCK_WAIT_TIMEOUT: revisit apply_lock_wait()")
    allauth_ratelimit.CACHE_LOCK_WAIT_TIMEOUT = settings.RATE_LIMIT_LOCK_WAIT
