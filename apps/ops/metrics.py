"""The numbers an operator watches (DESIGN §12): queue depth, due-post lag, publish outcomes,
targets per state, connection states, and what is stuck. One `snapshot()` feeds both the
Prometheus endpoint and the admins' operations page.

Every number is an aggregate query on an index (PublishTarget: state+due_at, state+lease_until,
state+state_changed_at, dispatched_at; PublishAttempt: started_at; LinkedAccount: state+platform),
so a scrape costs the same whether the agency has published a hundred posts or a million — the
per-state counts aside, which read the state index whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F
from django.utils import timezone

from apps.common.health import check_broker, check_worker
from apps.connections.models import LinkedAccount, State
from apps.platforms.types import Platform
from apps.publishing.models import PublishAttempt, PublishTarget, TargetState

LAG_WINDOW = timedelta(hours=1)
OUTCOME_WINDOW = timedelta(hours=24)
LAG_QUANTILES = (0.5, 0.99)
# The results of a target that count as the end of a publish (per platform, last 24 h).
RESULT_STATES = (TargetState.PUBLISHED, TargetState.FAILED, TargetState.UNCONFIRMED)
# A call still under way has no outcome yet.
IN_PROGRESS = "in_progress"
CALL_OUTCOMES = (*PublishAttempt.Outcome.values, IN_PROGRESS)
LEASED_STATES = (TargetState.DISPATCHED, TargetState.PUBLISHING)
STUCK_LIST_LIMIT = 10


@dataclass(frozen=True)
class Queue:
    ok: bool
    broker: str
    depth: int | None


@dataclass(frozen=True)
class Lag:
    """dispatched_at - due_at of the targets dispatched in the last hour, in seconds."""

    count: int
    quantiles: dict[float, float | None]


@dataclass(frozen=True)
class Overdue:
    """Targets whose time has come that no dispatcher has claimed yet."""

    count: int
    oldest: PublishTarget | None
    oldest_due_at: datetime | None
    oldest_age_s: float


@dataclass(frozen=True)
class PastLease:
    """Targets in dispatched/publishing whose lease ran out: their worker is gone."""

    count: int
    targets: list[PublishTarget]


@dataclass(frozen=True)
class Snapshot:
    at: datetime
    queue: Queue
    worker_age_s: float | None
    lag: Lag
    overdue: Overdue
    past_lease: PastLease
    calls: dict[tuple[str, str], int]  # (platform, outcome) -> calls in the last 24 h
    results: dict[tuple[str, str], int]  # (platform, state) -> targets ending so, last 24 h
    targets: dict[str, int]  # state -> targets
    accounts: dict[tuple[str, str], int]  # (platform, state) -> linked accounts


def snapshot(*, now: datetime | None = None) -> Snapshot:
    now = now or timezone.now()
    return Snapshot(
        at=now,
        queue=queue(),
        worker_age_s=worker_age(),
        lag=dispatch_lag(now=now),
        overdue=overdue(now=now),
        past_lease=past_lease(now=now),
        calls=calls_by_outcome(now=now),
        results=results_by_platform(now=now),
        targets=targets_by_state(),
        accounts=accounts_by_state(),
    )


def queue() -> Queue:
    """Tasks waiting in django-q's broker (Redis list or ORM table), from the broker's own API."""
    found = check_broker()
    return Queue(
        ok=bool(found["ok"]), broker=str(found.get("broker", "")), depth=found.get("queued")
    )


def worker_age() -> float | None:
    found = check_worker()
    age = found.get("age_seconds")
    return float(age) if age is not None else None


def dispatch_lag(*, now: datetime) -> Lag:
    """Nearest-rank quantiles, each read by the database as one sorted row (ORDER BY … OFFSET),
    so the lags never come to Python: one count plus one query per quantile."""
    rows = PublishTarget.objects.filter(
        dispatched_at__gte=now - LAG_WINDOW, dispatched_at__lte=now, due_at__isnull=False
    ).annotate(
        lag=ExpressionWrapper(F("dispatched_at") - F("due_at"), output_field=DurationField())
    )
    count = rows.count()
    quantiles: dict[float, float | None] = {}
    for q in LAG_QUANTILES:
        if not count:
            quantiles[q] = None
            continue
        rank = max(1, math.ceil(q * count)) - 1
        # A row that left the window since the count makes the slice empty: no value this time.
        value = list(rows.order_by("lag", "pk").values_list("lag", flat=True)[rank : rank + 1])
        quantiles[q] = value[0].total_seconds() if value else None
    return Lag(count=count, quantiles=quantiles)


def overdue(*, now: datetime) -> Overdue:
    """Scheduled targets past their time, and waiting retries past theirs."""
    scheduled = PublishTarget.objects.filter(state=TargetState.SCHEDULED, due_at__lte=now)
    retries = PublishTarget.objects.filter(state=TargetState.RETRY_WAIT, next_attempt_at__lte=now)
    count = scheduled.count() + retries.count()
    related = ("crosspost__client", "linked_account")
    candidates: list[tuple[datetime, PublishTarget]] = []
    first = scheduled.select_related(*related).order_by("due_at", "pk").first()
    if first is not None and first.due_at is not None:
        candidates.append((first.due_at, first))
    retry = retries.select_related(*related).order_by("next_attempt_at", "pk").first()
    if retry is not None and retry.next_attempt_at is not None:
        candidates.append((retry.next_attempt_at, retry))
    if not candidates:
        return Overdue(count=0, oldest=None, oldest_due_at=None, oldest_age_s=0.0)
    due_at, oldest = min(candidates, key=lambda c: c[0])
    return Overdue(
        count=count,
        oldest=oldest,
        oldest_due_at=due_at,
        oldest_age_s=max(0.0, (now - due_at).total_seconds()),
    )


def past_lease(*, now: datetime) -> PastLease:
    stuck = PublishTarget.objects.filter(state__in=LEASED_STATES, lease_until__lt=now)
    return PastLease(
        count=stuck.count(),
        targets=list(
            stuck.select_related("crosspost__client", "linked_account").order_by(
                "lease_until", "pk"
            )[:STUCK_LIST_LIMIT]
        ),
    )


def _grouped(rows: Any, *keys: str) -> dict[tuple[str, ...], int]:
    return {tuple(str(row[k] or "") for k in keys): row["n"] for row in rows}


def calls_by_outcome(*, now: datetime) -> dict[tuple[str, str], int]:
    """Every (platform, outcome) pair, zeros included, so a series never vanishes."""
    rows = (
        PublishAttempt.objects.filter(started_at__gte=now - OUTCOME_WINDOW, started_at__lte=now)
        .values("target__platform", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    found = _grouped(rows, "target__platform", "outcome")
    return {
        (p, o): found.get((p, "" if o == IN_PROGRESS else o), 0)
        for p in Platform.values
        for o in CALL_OUTCOMES
    }


def results_by_platform(*, now: datetime) -> dict[tuple[str, str], int]:
    rows = (
        PublishTarget.objects.filter(
            state__in=RESULT_STATES, state_changed_at__gte=now - OUTCOME_WINDOW
        )
        .values("platform", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    found = _grouped(rows, "platform", "state")
    return {(p, s): found.get((p, s), 0) for p in Platform.values for s in RESULT_STATES}


def targets_by_state() -> dict[str, int]:
    rows = PublishTarget.objects.values("state").annotate(n=Count("id")).order_by()
    found = {row["state"]: row["n"] for row in rows}
    return {state: found.get(state, 0) for state in TargetState.values}


def accounts_by_state() -> dict[tuple[str, str], int]:
    rows = LinkedAccount.objects.values("platform", "state").annotate(n=Count("id")).order_by()
    found = _grouped(rows, "platform", "state")
    return {(p, s): found.get((p, s), 0) for p in Platform.values for s in State.values}
