"""Health of the moving parts: database, broker and the worker's heartbeat (DESIGN §12)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.common.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.exception("Health check: database unreachable")
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor}


def check_broker() -> dict[str, Any]:
    """The queue the worker reads: Redis when REDIS_URL is set, else the ORM broker's table."""
    try:
        from django_q.brokers import get_broker

        broker = get_broker()
        if not broker.ping():
            return {"ok": False, "broker": type(broker).__name__}
        depth = broker.queue_size()
    except Exception as exc:
        logger.exception("Health check: broker unreachable")
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "broker": type(broker).__name__, "queued": depth}


def check_worker() -> dict[str, Any]:
    beat = WorkerHeartbeat.objects.order_by("-beat_at").first()
    if beat is None:
        return {"ok": False, "last_heartbeat": None, "reason": "no heartbeat yet"}
    age = (timezone.now() - beat.beat_at).total_seconds()
    ok = age <= settings.WORKER_HEARTBEAT_MAX_AGE
    return {
        "ok": ok,
        "last_heartbeat": beat.beat_at.isoformat(),
        "age_seconds": int(age),
        "cluster": beat.cluster,
    }


def health_report() -> dict[str, Any]:
    checks = {"database": check_database(), "broker": check_broker(), "worker": check_worker()}
    _log_change(checks)
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}


# The failing checks at this process's previous report. Load balancers poll /healthz every few
# seconds: a line per poll would bury everything else, so a change of health is logged once.
_last_failing: tuple[str, ...] = ()


def _log_change(checks: dict[str, dict[str, Any]]) -> None:
    global _last_failing
    failing = tuple(name for name, check in checks.items() if not check["ok"])
    if failing == _last_failing:
        return
    _last_failing = failing
    if failing:
        logger.warning(
            "Health: not healthy (%s)",
            "; ".join(f"{name}: {_why(checks[name])}" for name in failing),
        )
    else:
        logger.info("Health: all checks healthy")


def _why(check: dict[str, Any]) -> str:
    if "age_seconds" in check:
        return f"last heartbeat {check['age_seconds']} s ago"
    return str(check.get("reason") or check.get("error") or "down")


def heartbeat_record(*, cluster: str) -> None:
    """Called by the scheduled heartbeat task: one row per cluster, updated in place."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(cluster=cluster, defaults={"beat_at": now})
    WorkerHeartbeat.objects.filter(beat_at__lt=now - timedelta(days=7)).delete()
