"""Reads for connection pages, shaped for the templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.clients.access import scope_to_visible_clients, sees_every_client
from apps.clients.models import Client
from apps.connections.lifecycle import warnings_for
from apps.connections.models import (
    CLOSED_STATES,
    AccountAttempt,
    Capability,
    ConnectLink,
    LinkedAccount,
    LinkedAccountQuerySet,
    Platform,
    State,
    StateChange,
)
from apps.connections.tallies import ACCOUNTS_BY_STATE


def accounts_for_client(*, client: Client) -> list[LinkedAccount]:
    accounts = list(
        LinkedAccount.objects.filter(client=client)
        .select_related("credential", "connected_by")
        .order_by("state", "platform", "handle")
    )
    accounts.sort(key=lambda a: (a.state == State.DISCONNECTED, a.platform, a.handle))
    for account in accounts:
        account.warnings = warnings_for(account)  # type: ignore[attr-defined]
    return accounts


def account_history(*, account: LinkedAccount, limit: int = 30) -> QuerySet[StateChange]:
    return account.history.all()[:limit]


def account_attempts(*, account: LinkedAccount, limit: int = 10) -> QuerySet[AccountAttempt]:
    """The latest token refreshes and platform revokes, newest first (STYLE rule 8)."""
    return account.attempts.all()[:limit]


def open_connect_links(*, client: Client) -> QuerySet[ConnectLink]:
    return (
        ConnectLink.objects.filter(client=client)
        .select_related("created_by", "used_account")
        .order_by("-created_at")[:10]
    )


def health_counts(*, user: Any) -> dict[str, Any]:
    """Counts by state and platform across the clients the user can see: for others than admins
    one aggregate over their own book; for an admin the whole table's, kept until an account is
    created or changes state (connections/tallies.py).

    `total` is every account not yet disconnected; only `active` ones are connected in the sense
    a reader means (revoked or needs-reconnect accounts are not).
    """

    def count() -> dict[tuple[str, str], int]:
        rows = (
            scope_to_visible_clients(LinkedAccount.objects.all(), user, listed=True)
            .exclude(state=State.DISCONNECTED)
            .order_by()  # the default ordering would join every account's client
            .values("platform", "state")
            .annotate(n=Count("pk"))
        )
        return {(row["platform"], row["state"]): row["n"] for row in rows}

    counts = ACCOUNTS_BY_STATE.read(count) if sees_every_client(user) else count()
    table = []
    for state, label in State.choices:
        if state == State.DISCONNECTED:
            continue
        # One count per platform, in `platforms` order (the table's columns).
        per_platform = [counts.get((p, state), 0) for p in Platform.values]
        table.append(
            {"state": state, "label": label, "counts": per_platform, "total": sum(per_platform)}
        )
    by_state = {row["state"]: row["total"] for row in table}
    return {
        "platforms": list(Platform.labels),
        "rows": table,
        "total": sum(by_state.values()),
        "active": by_state[State.ACTIVE],
    }


CAPABILITY_FINE = (Capability.OK, Capability.UNKNOWN)


def attention_reasons(
    account: LinkedAccount, warnings: list[dict[str, str]]
) -> list[dict[str, str]]:
    """Why `account` is on the needs-attention list, in the order a reader should act: its
    state, its publishing capability, then the derived warnings (DESIGN §5). Each reason has a
    `kind`, a short `label` for its badge and a `text` saying what happened."""
    reasons = []
    if account.state != State.ACTIVE:
        reasons.append(
            {"kind": "state", "label": account.get_state_display(), "text": account.state_reason}
        )
    # While a disconnect is pending the account is going away; its capability no longer matters.
    if (
        account.publish_capability not in CAPABILITY_FINE
        and account.state != State.DISCONNECT_PENDING
    ):
        reasons.append(
            {
                "kind": "capability",
                "capability": account.publish_capability,
                "label": account.get_publish_capability_display(),
                "text": account.capability_reason,
            }
        )
    reasons += [
        {"kind": w["code"], "label": w["code"].capitalize(), "text": w["message"]} for w in warnings
    ]
    return reasons


def needs_attention_q(*, now: datetime) -> Q:
    """Accounts people must act on: bad states, capability problems, or stale or expiring
    evidence. A pending disconnect is the system's to finish, not a person's. The one
    definition, for this list and for any other query that asks (the clients list's filter)."""
    return ~Q(state__in=CLOSED_STATES) & (
        ~Q(state=State.ACTIVE)
        | ~Q(publish_capability__in=CAPABILITY_FINE)
        | LinkedAccountQuerySet.stale_q(now=now)
        | LinkedAccountQuerySet.expiring_q(now=now)
    )


def needs_attention(*, user: Any, limit: int = 20) -> list[LinkedAccount]:
    """Accounts people must act on: bad states, capability problems, or stale evidence.

    Newest first: the database walks the state_changed_at index backwards, tests each account
    (and its one credential) as it passes, and stops at `limit` — it never reads every account.
    """
    now = timezone.now()
    qs = (
        scope_to_visible_clients(LinkedAccount.objects.all(), user, listed=True)
        .filter(needs_attention_q(now=now))
        .select_related("client", "credential")
        .order_by("-state_changed_at")[:limit]
    )
    accounts = list(qs)
    for account in accounts:
        account.warnings = warnings_for(account)  # type: ignore[attr-defined]
        account.attention_reasons = attention_reasons(account, account.warnings)  # type: ignore[attr-defined]
    return accounts
