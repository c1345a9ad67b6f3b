"""Seeded rows with known metrics, and a strict reader of Prometheus' text format."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apps.connections.models import LinkedAccount, State
from apps.publishing.models import PublishTarget
from tests.factories import LinkedAccountFactory, PublishAttemptFactory, PublishTargetFactory

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
VALUE = r"NaN|[+-]Inf|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
SAMPLE = re.compile(
    rf"^(?P<name>{NAME})(?:\{{(?P<labels>{LABEL}(?:,{LABEL})*)\}})? (?P<value>{VALUE})$"
)
HELP = re.compile(rf"^# HELP (?P<name>{NAME}) (?P<text>\S.*)$")
TYPE = re.compile(rf"^# TYPE (?P<name>{NAME}) (?P<type>counter|gauge|summary|histogram|untyped)$")
LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse(text: str) -> dict[str, dict[frozenset[tuple[str, str]], float]]:
    """{metric: {labels: value}} from an exposition, failing on any line that is not
    well-formed: a sample before its metric's HELP and TYPE, a metric's samples not together,
    a repeated label set, a missing final newline."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    metrics: dict[str, dict[frozenset[tuple[str, str]], float]] = {}
    helped: set[str] = set()
    typed: set[str] = set()
    current = ""
    for number, line in enumerate(text.splitlines(), 1):
        where = f"line {number}: {line!r}"
        if line.startswith("# HELP "):
            match = HELP.match(line)
            assert match, where
            assert match["name"] not in helped, f"second HELP, {where}"
            helped.add(match["name"])
            continue
        if line.startswith("# TYPE "):
            match = TYPE.match(line)
            assert match, where
            assert match["name"] in helped and match["name"] not in typed, where
            assert match["name"] not in metrics, f"TYPE after samples, {where}"
            typed.add(match["name"])
            current = match["name"]
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample, {where}"
        name = match["name"]
        assert name == current and name in typed, f"sample away from its metric, {where}"
        labels = frozenset(LABEL_PAIR.findall(match["labels"] or ""))
        samples = metrics.setdefault(name, {})
        assert labels not in samples, f"repeated labels, {where}"
        samples[labels] = float(match["value"])
    return metrics


def value(metrics: dict[str, Any], name: str, **labels: str) -> float:
    return metrics[name][frozenset(labels.items())]


@dataclass
class Seeded:
    tiktok: LinkedAccount
    instagram: LinkedAccount
    oldest_due: PublishTarget
    past_lease: list[PublishTarget]


def seed() -> Seeded:
    """Rows whose every metric is known (call inside time_machine at NOW):

    - dispatched in the last hour with lags 1, 2, 3 and 30 s (p50 2 s, p99 30 s); one dispatched
      two hours ago (500 s) and one without a due time do not count;
    - due but not dispatched: scheduled 5 and 1 minutes ago, a retry 2 minutes ago (3; the
      oldest has waited 300 s); one scheduled in an hour does not count;
    - past the lease: a dispatched and a publishing target (2); one still leased does not count,
      nor a published one with an old lease;
    - calls of the last 24 h: TikTok 3 ok + 1 transient, Instagram 2 permanent + 1 under way;
      5 older TikTok calls do not count;
    - results of the last 24 h: TikTok 1 published, 1 unconfirmed; Instagram 1 failed; an older
      published target does not count;
    - accounts: TikTok 1 active + 2 needing a reconnect, Instagram 1 active + 1 disconnected.
    """
    tiktok = LinkedAccountFactory(platform="tiktok", handle="tt")
    instagram = LinkedAccountFactory(platform="instagram", handle="ig")
    LinkedAccountFactory.create_batch(2, platform="tiktok", state=State.NEEDS_RECONNECT)
    LinkedAccountFactory(platform="instagram", state=State.DISCONNECTED)

    def target(account: LinkedAccount, state: str, **fields: Any) -> PublishTarget:
        fields.setdefault("due_at", NOW + timedelta(days=3))
        fields.setdefault("state_changed_at", NOW - timedelta(days=3))
        return PublishTargetFactory(linked_account=account, state=state, **fields)

    for lag_s in (1, 2, 3, 30):  # processing: neither due nor leased
        due = NOW - 10 * MINUTE
        target(tiktok, "processing", due_at=due, dispatched_at=due + timedelta(seconds=lag_s))
    target(tiktok, "processing", due_at=NOW - 3 * 60 * MINUTE, dispatched_at=NOW - 120 * MINUTE)
    target(instagram, "processing", due_at=None, dispatched_at=NOW - MINUTE)

    oldest_due = target(tiktok, "scheduled", due_at=NOW - 5 * MINUTE)
    target(instagram, "scheduled", due_at=NOW - MINUTE)
    target(instagram, "retry_wait", due_at=NOW - 60 * MINUTE, next_attempt_at=NOW - 2 * MINUTE)
    target(tiktok, "scheduled", due_at=NOW + 60 * MINUTE)

    past_lease = [
        target(tiktok, "dispatched", lease_until=NOW - MINUTE),
        target(instagram, "publishing", lease_until=NOW - timedelta(seconds=10)),
    ]
    target(tiktok, "publishing", lease_until=NOW + 5 * MINUTE)

    published = target(
        tiktok, "published", lease_until=NOW - 90 * MINUTE, state_changed_at=NOW - 60 * MINUTE
    )
    target(tiktok, "unconfirmed", state_changed_at=NOW - 3 * 60 * MINUTE)
    failed = target(instagram, "failed", state_changed_at=NOW - 23 * 60 * MINUTE)
    target(tiktok, "published", state_changed_at=NOW - 25 * 60 * MINUTE)

    calls_at = NOW - 30 * MINUTE
    for _ in range(3):
        PublishAttemptFactory(target=published, started_at=calls_at)
    PublishAttemptFactory(target=published, started_at=calls_at, outcome="transient")
    PublishAttemptFactory.create_batch(2, target=failed, started_at=calls_at, outcome="permanent")
    PublishAttemptFactory(
        target=failed, started_at=NOW - MINUTE, outcome="", finished_at=None, duration_ms=None
    )
    PublishAttemptFactory.create_batch(5, target=published, started_at=NOW - 25 * 60 * MINUTE)
    return Seeded(tiktok=tiktok, instagram=instagram, oldest_due=oldest_due, past_lease=past_lease)


# The targets per state that seed() leaves.
SEEDED_STATES = {
    "scheduled": 3,
    "dispatched": 1,
    "publishing": 2,
    "processing": 6,
    "published": 2,
    "retry_wait": 1,
    "failed": 1,
    "unconfirmed": 1,
    "cancelled": 0,
}
