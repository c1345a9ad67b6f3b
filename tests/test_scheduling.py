"""The suite undoes a real-time scheduling policy put on its process, and on the children that
inherited it (tests/scheduling.py: Chromium under SCHED_FIFO starved the database)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.scheduling import ordinary_scheduling


def test_a_real_time_policy_on_the_run_and_its_children_is_undone(capsys):
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except PermissionError:
        # An unprivileged developer may not set a real-time policy; CI runs as root and must.
        if os.environ.get("CI"):
            pytest.fail("CI must be able to set a real-time policy to test undoing it")
        pytest.skip("this user may not set a real-time policy")
    try:
        # started while we are real-time, it inherits the policy, as Chromium did
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            assert os.sched_getscheduler(child.pid) == os.SCHED_FIFO
            ordinary_scheduling()
            assert os.sched_getscheduler(0) == os.SCHED_OTHER
            assert os.sched_getscheduler(child.pid) == os.SCHED_OTHER
        finally:
            child.kill()
            child.wait()
    finally:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    assert "real-time scheduling policy" in capsys.readouterr().err


def test_on_the_ordinary_scheduler_it_changes_nothing_and_says_nothing(capsys):
    ordinary_scheduling()
    assert os.sched_getscheduler(0) == os.SCHED_OTHER
    assert capsys.readouterr().err == ""
