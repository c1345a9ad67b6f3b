"""Service outcomes are values (views branch on `status`); `str()` is the log form."""

from __future__ import annotations

from apps.connections import outcomes
from apps.connections.outcomes import Status


def test_each_outcome_has_a_status_and_a_log_form():
    cases = [
        (outcomes.checked(), Status.DONE, "ok"),
        (outcomes.check_failed("190/459"), Status.FAILED, "error: 190/459"),
        (outcomes.refreshed(), Status.DONE, "refreshed"),
        (outcomes.disconnected(), Status.DONE, "disconnected"),
        (outcomes.skipped("not due"), Status.SKIPPED, "skipped: not due"),
        (outcomes.failed("invalid_grant"), Status.FAILED, "failed: invalid_grant"),
        (outcomes.retry(), Status.RETRY, "retry"),
    ]
    for outcome, status, text in cases:
        assert outcome.status is status
        assert str(outcome) == text
        assert outcome.ok is (status is Status.DONE)
        assert outcome.skipped is (status is Status.SKIPPED)
