"""Reads for connection pages, shaped for the templates."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.clients.access import clients_visible_to
from apps.clients.models import Client
from apps.connections.lifecycle import (
    INSTAGRAM_EXPIRY_WARNING,
    NEEDS_HUMAN,
    STALE_AFTER,
    TIKTOK_REFRESH_WARNING,
    warnings_for,
)
from apps.connections.models import (
    Capability,
    ConnectLink,
    LinkedAccount,
    Platform,
    State,
    StateChange,
)


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


def open_connect_links(*, client: Client) -> QuerySet[ConnectLink]:
    return (
        ConnectLink.objects.filter(client=client)
        .select_related("created_by", "used_account")
        .order_by("-created_at")[:10]
    )


def health_counts(*, user: Any) -> dict[str, Any]:
    """Counts by state and platform across the clients the user can see (one query)."""
    rows = (
        LinkedAccount.objects.filter(client__in=clients_visible_to(user).values("pk"))
        .exclude(state=State.DISCONNECTED)
        .values("platform", "state")
        .annotate(n=Count("pk"))
    )
    counts = {(row["platform"], row["state"]): row["n"] for row in rows}
    table = []
    for state, label in State.choices:
        if state == State.DISCONNECTED:
            continue
        per_platform = {p: counts.get((p, state), 0) for p in Platform.values}
        table.append(
            {"state": state, "label": label, **per_platform, "total": sum(per_platform.values())}
        )
    return {"rows": table, "total": sum(r["total"] for r in table)}


def needs_attention(*, user: Any, limit: int = 20) -> list[LinkedAccount]:
    """Accounts people must act on: bad states, capability problems, or stale evidence."""
    now = timezone.now()
    stale_before = now - STALE_AFTER
    qs = (
        LinkedAccount.objects.filter(client__in=clients_visible_to(user).values("pk"))
        .exclude(state__in=[State.DISCONNECTED])
        .filter(
            ~Q(state=State.ACTIVE)
            | ~Q(publish_capability__in=[Capability.OK, Capability.UNKNOWN])
            | Q(last_ok_at__lt=stale_before)
            | Q(platform="tiktok", credential__refresh_expires_at__lte=now + TIKTOK_REFRESH_WARNING)
            | Q(
                platform="instagram",
                credential__access_expires_at__lte=now + INSTAGRAM_EXPIRY_WARNING,
            )
        )
        .select_related("client", "credential")
        .order_by("-state_changed_at")[:limit]
    )
    accounts = list(qs)
    for account in accounts:
        account.warnings = warnings_for(account)  # type: ignore[attr-defined]
        account.needs_human = account.state in NEEDS_HUMAN  # type: ignore[attr-defined]
    return accounts
