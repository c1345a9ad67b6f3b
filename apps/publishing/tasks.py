"""Thin publishing tasks: load by id, call one service (STYLE rule 7)."""

from __future__ import annotations

from apps.publishing.notifications import notify_target_problem as _notify
from apps.publishing.pipeline.dispatch import dispatcher_kick, dispatcher_loop
from apps.publishing.pipeline.publish import target_publish


def notify_target_problem(target_id: int) -> bool:
    return _notify(target_id=target_id)


def dispatch_loop(handoff: str = "") -> str:
    """Started every minute by the schedule (a watchdog) and by each loop for its successor."""
    return dispatcher_loop(handoff=handoff)


def publish_target(target_id: int, token: str) -> str:
    result = target_publish(target_id=target_id, token=token)
    dispatcher_kick()
    return result
