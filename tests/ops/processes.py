"""Real processes for the operations tests: manage.py, gunicorn and qcluster in a fresh
environment, as deploy/ starts them, and stopped the way systemd stops them (SIGTERM to the main
process), with the time each took.

Each process starts in a session (process group) of its own, so a test can tell whether its
children are gone too, and kill what is left whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))

# Production secrets (DEBUG off, no demo); the database and the rest come from each test.
PRODUCTION = {
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "LOG_LEVEL": "INFO",
}
# What the machine running the tests may have set that would change the processes under test.
_AMBIENT = (
    "DEBUG",
    "SWITCHBOARD_",
    "EMULATOR_",
    "PYTEST",
    "DJANGO_",
    "DATABASE_URL",
    "REDIS_URL",
    "Q_",
    "GUNICORN_",
    "WEB_CONCURRENCY",
    "PORT",
    "FORWARDED_ALLOW_IPS",
    "BEHIND_TLS_PROXY",
    "PUBLIC_BASE_URL",
    "STATIC_ROOT",
    "MEDIA_ROOT",
)


def production_env(**extra: str) -> dict[str, str]:
    """A production environment: no DEBUG, no demo, no `.env`, nothing from the test run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_AMBIENT)}
    env["SWITCHBOARD_ENV_FILE"] = ""  # a demo checkout's .env must not leak in
    env.update(PRODUCTION)
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a pid reused by someone else's process
        return True
    return True


@dataclass
class Process:
    """One started process (gunicorn's master, qcluster's parent) and its process group."""

    name: str
    popen: subprocess.Popen
    log_path: Path
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        if self._log and not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return f"--- {self.name} ({self.log_path}) ---\n" + "\n".join(
            self.log().splitlines()[-lines:]
        )

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, *, within: float = 10.0) -> float:
        """SIGTERM to the main process only, as systemd's KillMode=mixed and scripts/run do;
        the seconds until it and its whole process group were gone (see stop_all)."""
        return stop_all([self], within=within)[self.name]

    def kill(self) -> None:
        """Last resort and test cleanup: SIGKILL to the whole group."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)
        self._close()

    def _close(self) -> None:
        if self._log and not self._log.closed:
            self._log.close()


def stop_all(processes: list[Process], *, within: float = 10.0) -> dict[str, float]:
    """SIGTERM to each main process at once; the seconds until each process and its whole
    process group were gone. Past `within`, kills what is left and fails with its output."""
    started = time.monotonic()
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
    gone: dict[str, float] = {}
    while time.monotonic() - started < within:
        for process in processes:
            if process.name not in gone and not process.running() and not group_alive(process.pid):
                gone[process.name] = time.monotonic() - started
                process._close()
        if len(gone) == len(processes):
            return gone
        time.sleep(0.05)
    left = [process for process in processes if process.name not in gone]
    for process in left:
        process.kill()
    raise AssertionError(
        f"still running {within:g} s after SIGTERM: {', '.join(p.name for p in left)}\n"
        + "\n".join(process.tail() for process in left)
    )


def start(name: str, args: list[str], *, env: dict[str, str], log_dir: Path) -> Process:
    log_path = log_dir / f"{name}.log"
    log = log_path.open("wb")
    popen = subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    return Process(name=name, popen=popen, log_path=log_path, _log=log)


def start_gunicorn(*, port: int, env: dict[str, str], log_dir: Path, workers: int = 2) -> Process:
    env = {
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": env.get("GUNICORN_THREADS", "4"),
    }
    return start("gunicorn", [GUNICORN, "-c", "config/gunicorn.py"], env=env, log_dir=log_dir)


def start_qcluster(*, env: dict[str, str], log_dir: Path) -> Process:
    return start("qcluster", [sys.executable, "manage.py", "qcluster"], env=env, log_dir=log_dir)


def wait_for_port(port: int, process: Process, *, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.running():
            raise AssertionError(f"{process.name} exited before listening\n{process.tail()}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"{process.name} did not listen on {port} in {timeout:g} s")


def wait_for_log(process: Process, text: str, *, times: int = 1, timeout: float = 20.0) -> None:
    """Wait until `text` appears in the process's output (at least `times` times)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.log().count(text) >= times:
            return
        if not process.running():
            raise AssertionError(f"{process.name} exited\n{process.tail()}")
        time.sleep(0.1)
    raise AssertionError(f"{process.name} never logged {text!r}\n{process.tail()}")
