"""Stopping the worker: SIGTERM to qcluster's main process stops it and all its processes well
within 10 s, directly and through scripts/run's stop_process (scripts/_stop.sh); scripts/worker
(the Procfile's worker) stops it that way when a runner sends TERM to its whole process group.

A TERM to qcluster's whole process group is what not to do (it kills the sentinel under the main
process, which then waits for it forever): deploy/'s units send it to the main process only.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ops.processes import (
    ROOT,
    group_alive,
    manage,
    production_env,
    start,
    start_qcluster,
    wait_for_log,
)

RUNNING = "Q Cluster"  # "Q Cluster <name> [<queue>] running." once its processes are up


@pytest.fixture(scope="module")
def worker_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Production settings on a migrated SQLite database with the ORM broker."""
    database = tmp_path_factory.mktemp("worker") / "db.sqlite3"
    env = production_env(DATABASE_URL=f"sqlite:///{database}", Q_LOG_LEVEL="INFO")
    migrate = manage("migrate", "--no-input", env=env)
    assert migrate.returncode == 0, migrate.stderr
    return env


def test_sigterm_to_the_main_process_stops_qcluster_within_10_seconds(worker_env, tmp_path):
    worker = start_qcluster(env=worker_env, log_dir=tmp_path)
    try:
        wait_for_log(worker, "running.")
        seconds = worker.stop(within=10)
    finally:
        worker.kill()
    print(f"qcluster stopped {seconds:.1f} s after SIGTERM to its main process")
    assert "has stopped." in worker.log()


def test_scripts_run_stops_the_worker_with_term_then_waits(worker_env, tmp_path):
    """scripts/run's stop_process, on a worker started as scripts/run starts it (setsid)."""
    log = tmp_path / "worker.log"
    script = f"""
        source scripts/_stop.sh
        setsid {sys.executable} manage.py qcluster > {log} 2>&1 &
        WORKER=$!
        echo "$WORKER"
        for _ in $(seq 1 150); do grep -q 'running\\.' {log} && break; sleep 0.1; done
        started=$(date +%s%N)
        stop_process "$WORKER" 10
        echo $(( ($(date +%s%N) - started) / 1000000 ))
    """
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=worker_env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    pid, milliseconds = (int(line) for line in result.stdout.split())
    text = log.read_text()
    assert "has stopped." in text, text  # stopped by the TERM, not by the last-resort KILL
    assert milliseconds < 8000, text
    assert not group_alive(pid)


def test_scripts_worker_stops_qcluster_when_its_whole_group_gets_sigterm(worker_env, tmp_path):
    """What honcho and foreman do to a Procfile process: TERM to its process group."""
    runner = start(
        "worker", ["scripts/worker"], env={**worker_env, "PYTHON": sys.executable}, log_dir=tmp_path
    )
    try:
        wait_for_log(runner, "running.")
        started = time.monotonic()
        os.killpg(runner.pid, signal.SIGTERM)
        runner.popen.wait(10)
        seconds = time.monotonic() - started
    finally:
        runner.kill()
    log = runner.log()
    assert "has stopped." in log, log  # qcluster stopped cleanly, not by the KILL
    children = [int(pid) for pid in re.findall(r" at (\d+)$", log, re.M)]
    assert children and not any(_alive(pid) for pid in children)
    assert seconds < 8, log


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_stop_process_kills_what_ignores_the_term(tmp_path: Path):
    """The last resort: a process that outlives the wait is killed with its whole group."""
    script = """
        source scripts/_stop.sh
        setsid bash -c 'trap "" TERM; sleep 60 & wait' &
        PID=$!
        sleep 0.3
        stop_process "$PID" 1
        echo "$PID"
    """
    started = time.monotonic()
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 5
    pgid = int(result.stdout.split()[-1])
    deadline = time.monotonic() + 3  # the killed processes are reaped by init, not by us
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not group_alive(pgid)
