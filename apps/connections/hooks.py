"""Extension points other apps register into (publishing cancels its targets here).

A plain list rather than Django signals: the call sites are explicit (STYLE: no signals as
hidden control flow) and a handler returns how many items it cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BLOCKED_ACCOUNT_HANDLERS: list[Callable[..., int]] = []


def register_blocked_account_handler(handler: Callable[..., Any]) -> None:
    if handler not in BLOCKED_ACCOUNT_HANDLERS:
        BLOCKED_ACCOUNT_HANDLERS.append(handler)
