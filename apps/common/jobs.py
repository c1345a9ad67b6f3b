"""Enqueue background work after the surrounding transaction commits, passing ids only.

The database is the schedule; the queue only carries "do this now" (STYLE rule 7). Enqueuing on
commit means a task never runs against rows that a rolled-back transaction never wrote.
"""

from __future__ import annotations

from django.db import transaction
from django_q.tasks import async_task

_ALLOWED_ARG_TYPES = (int, str, bool, type(None))


def enqueue(func_path: str, *args: int | str | bool | None, group: str | None = None) -> None:
    """Queue `func_path(*args)` once the current transaction commits (at once outside one)."""
    for arg in args:
        if not isinstance(arg, _ALLOWED_ARG_TYPES):
            raise TypeError(f"Tasks take ids and plain values only, not {type(arg).__name__}.")

    def _send() -> None:
        options: dict[str, object] = {}
        if group:
            options["group"] = group
        async_task(func_path, *args, **options)

    transaction.on_commit(_send)
