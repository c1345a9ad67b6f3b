"""The metrics (apps/ops/metrics.py) and their Prometheus text (apps/ops/prometheus.py): values
right for seeded rows, every line well-formed, and the cost of a scrape fixed however many rows
there are."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.brokers import get_broker
from django_q.tasks import async_task

from apps.common.tasks import heartbeat
from apps.ops import metrics, prometheus
from tests.factories import PublishTargetFactory
from tests.ops.metrics_seed import NOW, SEEDED_STATES, parse, seed, value

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def empty_queue():
    broker = get_broker()
    broker.purge_queue()
    yield broker
    broker.purge_queue()


def scrape() -> dict:
    return parse(prometheus.render(metrics.snapshot()))


def test_the_seeded_numbers_come_out_right(empty_queue):
    seeded = seed()
    snap = metrics.snapshot()

    assert snap.lag.count == 4
    assert snap.lag.quantiles == {0.5: 2.0, 0.99: 30.0}
    assert snap.overdue.count == 3
    assert snap.overdue.oldest == seeded.oldest_due
    assert snap.overdue.oldest_age_s == 300.0
    assert snap.past_lease.count == 2
    assert snap.past_lease.targets == seeded.past_lease  # oldest lease first
    assert snap.targets == SEEDED_STATES


def test_the_exposition_is_well_formed_and_says_the_seeded_numbers(empty_queue):
    seed()
    found = scrape()
    m = "switchboard_"

    assert value(found, m + "dispatch_lag_seconds", quantile="0.5") == 2
    assert value(found, m + "dispatch_lag_seconds", quantile="0.99") == 30
    assert value(found, m + "dispatched_last_hour") == 4
    assert value(found, m + "due_not_dispatched") == 3
    assert value(found, m + "oldest_due_seconds") == 300
    assert value(found, m + "targets_past_lease") == 2

    calls = found[m + "publish_calls_24h"]
    assert {dict(k)["platform"] + "/" + dict(k)["outcome"]: v for k, v in calls.items() if v} == {
        "tiktok/ok": 3,
        "tiktok/transient": 1,
        "instagram/permanent": 2,
        "instagram/in_progress": 1,
    }
    assert len(calls) == 2 * 5  # every platform and outcome, zeros included

    results = found[m + "publish_results_24h"]
    assert {dict(k)["platform"] + "/" + dict(k)["result"]: v for k, v in results.items() if v} == {
        "tiktok/published": 1,
        "tiktok/unconfirmed": 1,
        "instagram/failed": 1,
    }

    targets = found[m + "publish_targets"]
    assert {dict(k)["state"]: v for k, v in targets.items()} == SEEDED_STATES

    accounts = found[m + "linked_accounts"]
    assert {dict(k)["platform"] + "/" + dict(k)["state"]: v for k, v in accounts.items() if v} == {
        "tiktok/active": 1,
        "tiktok/needs_reconnect": 2,
        "instagram/active": 1,
        "instagram/disconnected": 1,
    }
    assert len(accounts) == 2 * 6


def test_queue_depth_is_the_brokers_count(empty_queue):
    broker_name = type(empty_queue).__name__
    assert value(scrape(), "switchboard_queue_depth", broker=broker_name) == 0
    for _ in range(3):
        async_task("apps.common.tasks.heartbeat")
    found = scrape()
    assert value(found, "switchboard_queue_depth", broker=broker_name) == 3
    assert value(found, "switchboard_queue_up", broker=broker_name) == 1


def test_a_broker_that_does_not_answer_is_down_with_no_depth(monkeypatch):
    monkeypatch.setattr(metrics, "check_broker", lambda: {"ok": False, "error": "ConnectionError"})
    found = scrape()
    assert value(found, "switchboard_queue_up", broker="unknown") == 0
    assert str(value(found, "switchboard_queue_depth", broker="unknown")) == "nan"


def test_the_worker_heartbeats_age(empty_queue):
    assert str(value(scrape(), "switchboard_worker_heartbeat_age_seconds")) == "nan"
    heartbeat()
    with time_machine.travel(NOW + timedelta(seconds=42), tick=False):
        assert value(scrape(), "switchboard_worker_heartbeat_age_seconds") == 42


def test_nothing_dispatched_gives_no_lag_rather_than_zero(empty_queue):
    found = scrape()
    assert str(value(found, "switchboard_dispatch_lag_seconds", quantile="0.5")) == "nan"
    assert value(found, "switchboard_dispatched_last_hour") == 0
    assert value(found, "switchboard_oldest_due_seconds") == 0


@pytest.mark.parametrize(
    ("lags", "p50", "p99"),
    [
        ([7], 7, 7),
        ([1, 2], 1, 2),
        (list(range(1, 101)), 50, 99),
        (list(range(1, 201)), 100, 198),
    ],
)
def test_lag_quantiles_are_nearest_rank(lags, p50, p99):
    due = NOW - timedelta(minutes=30)
    for lag in reversed(lags):
        PublishTargetFactory(
            state="processing", due_at=due, dispatched_at=due + timedelta(seconds=lag)
        )
    lag = metrics.dispatch_lag(now=NOW)
    assert (lag.count, lag.quantiles[0.5], lag.quantiles[0.99]) == (len(lags), p50, p99)


def test_a_retry_past_its_time_can_be_the_oldest_due():
    PublishTargetFactory(state="scheduled", due_at=NOW - timedelta(minutes=1))
    retry = PublishTargetFactory(
        state="retry_wait",
        due_at=NOW - timedelta(days=1),
        next_attempt_at=NOW - timedelta(minutes=9),
    )
    overdue = metrics.overdue(now=NOW)
    assert (overdue.count, overdue.oldest, overdue.oldest_age_s) == (2, retry, 540.0)


def test_label_values_are_escaped():
    lines = prometheus._metric("x", "help", [({"a": 'say "hi"\\\nbye'}, 1.5)])
    assert lines[-1] == 'switchboard_x{a="say \\"hi\\"\\\\\\nbye"} 1.5'
    assert parse("\n".join(lines) + "\n")["switchboard_x"] == {
        frozenset({("a", 'say \\"hi\\"\\\\\\nbye')}): 1.5
    }


@pytest.mark.parametrize(
    "broken",
    [
        "switchboard_x 1",  # no HELP/TYPE
        "# HELP switchboard_x h\n# TYPE switchboard_x gauge\nswitchboard_x{a=b} 1",
        "# HELP switchboard_x h\n# TYPE switchboard_x gauge\nswitchboard_x 1 2 3",
        "# HELP switchboard_x h\n# TYPE switchboard_x gauge\nswitchboard_x 1\nswitchboard_x 2",
    ],
)
def test_the_reader_refuses_what_prometheus_would(broken):
    with pytest.raises(AssertionError):
        parse(broken + "\n")


def test_a_scrape_costs_the_same_at_two_sizes(empty_queue):
    seed()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            metrics.snapshot()
        return len(ctx.captured_queries)

    small = count()
    seed()
    seed()
    assert count() == small <= 16
