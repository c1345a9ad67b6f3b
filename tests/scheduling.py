"""Keep the test process (and what it starts) on the ordinary scheduler.

Seen on this kind of machine: the pytest process was switched to a real-time policy (SCHED_FIFO,
priority 99) while it ran, by nothing in this project. Chromium and the Playwright driver, started
afterwards, inherited it and spun at 95 % of both cores each, starving PostgreSQL and the live
server (a 10-minute pass crawled past 30 minutes, and timed browser steps failed). Nothing in the
suite needs real-time scheduling, so the suite puts itself back on SCHED_OTHER before each test
and before it launches the browser, together with any child that inherited the policy.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROC = Path("/proc")


def _threads(pid: int) -> list[int]:
    try:
        return [int(tid) for tid in os.listdir(PROC / str(pid) / "task")]
    except OSError:
        return []


def _reset(pid: int) -> bool:
    """Put every thread of `pid` on SCHED_OTHER; True when one was not."""
    changed = False
    for tid in _threads(pid):
        try:
            if os.sched_getscheduler(tid) != os.SCHED_OTHER:
                os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))
                changed = True
        except OSError:  # the thread ended, or we may not change it
            continue
    return changed


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid …" — comm may hold spaces and parentheses
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def ordinary_scheduling() -> None:
    """Undo a real-time policy on this process's threads and, if there was one, on its children."""
    if not hasattr(os, "sched_setscheduler") or not PROC.is_dir():
        return
    me = os.getpid()
    if not _reset(me):
        return
    for child in _descendants(me):
        _reset(child)
    sys.stderr.write(
        "\n[tests] this process had a real-time scheduling policy; "
        "put it and its children back on SCHED_OTHER\n"
    )
