"""Thin publishing tasks: load by id, call one service (STYLE rule 7)."""

from __future__ import annotations

from apps.publishing.notifications import notify_target_problem as _notify


def notify_target_problem(target_id: int) -> bool:
    return _notify(target_id=target_id)
