"""A metrics snapshot in Prometheus' text exposition format (version 0.0.4): a HELP and TYPE line
per metric, then one sample per line, labels quoted and escaped, NaN where there is no value."""

from __future__ import annotations

import math
from collections.abc import Iterable

from apps.ops.metrics import Snapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "switchboard_"

Sample = tuple[dict[str, str], float | int | None]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float | int | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NaN"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _metric(name: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    full = PREFIX + name
    lines = [f"# HELP {full} {help_text}", f"# TYPE {full} gauge"]
    for labels, value in samples:
        label_text = ",".join(f'{key}="{_escape(val)}"' for key, val in labels.items())
        lines.append(
            f"{full}{{{label_text}}} {_number(value)}"
            if label_text
            else (f"{full} {_number(value)}")
        )
    return lines


def render(snap: Snapshot) -> str:
    broker = {"broker": snap.queue.broker or "unknown"}
    lines = [
        *_metric(
            "queue_up",
            "Whether the task broker answered (1) or not (0).",
            [(broker, int(snap.queue.ok))],
        ),
        *_metric(
            "queue_depth",
            "Tasks waiting in the task broker.",
            [(broker, snap.queue.depth)],
        ),
        *_metric(
            "worker_heartbeat_age_seconds",
            "Seconds since the newest worker heartbeat (NaN: none yet).",
            [({}, snap.worker_age_s)],
        ),
        *_metric(
            "dispatch_lag_seconds",
            "Due-post lag, dispatched_at - due_at, of the targets dispatched in the last hour "
            "(nearest-rank quantiles; NaN when none was dispatched).",
            [({"quantile": str(q)}, v) for q, v in snap.lag.quantiles.items()],
        ),
        *_metric(
            "dispatched_last_hour",
            "Targets dispatched in the last hour.",
            [({}, snap.lag.count)],
        ),
        *_metric(
            "due_not_dispatched",
            "Targets whose time (or retry time) has come that no dispatcher has claimed yet.",
            [({}, snap.overdue.count)],
        ),
        *_metric(
            "oldest_due_seconds",
            "Seconds the oldest due but undispatched target has waited (0: none).",
            [({}, snap.overdue.oldest_age_s)],
        ),
        *_metric(
            "targets_past_lease",
            "Targets dispatched or publishing whose lease has run out.",
            [({}, snap.past_lease.count)],
        ),
        *_metric(
            "publish_calls_24h",
            "Platform calls started in the last 24 hours, by platform and outcome.",
            [({"platform": p, "outcome": o}, n) for (p, o), n in snap.calls.items()],
        ),
        *_metric(
            "publish_results_24h",
            "Targets that were published, failed or became unconfirmed in the last 24 hours.",
            [({"platform": p, "result": s}, n) for (p, s), n in snap.results.items()],
        ),
        *_metric(
            "publish_targets",
            "Publish targets by state.",
            [({"state": s}, n) for s, n in snap.targets.items()],
        ),
        *_metric(
            "linked_accounts",
            "Linked accounts by platform and connection state.",
            [({"platform": p, "state": s}, n) for (p, s), n in snap.accounts.items()],
        ),
    ]
    return "\n".join(lines) + "\n"
