"""deploy/: the process definitions start what the README says and stop it the right way."""

from __future__ import annotations

import configparser
import runpy

from tests.ops.processes import ROOT

DEPLOY = ROOT / "deploy"


def unit(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep systemd's case
    parser.read(DEPLOY / name)
    return parser["Service"]


def test_the_worker_unit_sends_sigterm_to_qcluster_alone():
    service = unit("switchboard-worker.service")
    assert service["ExecStart"].endswith("manage.py qcluster")
    assert service["KillMode"] == "mixed"  # SIGTERM to the main process, SIGKILL to all
    assert service["KillSignal"] == "SIGTERM"
    assert 10 <= int(service["TimeoutStopSec"]) <= 120


def test_the_web_unit_runs_gunicorn_with_our_config_and_outlasts_its_graceful_timeout(
    monkeypatch,
):
    service = unit("switchboard-web.service")
    assert service["ExecStart"].endswith("gunicorn -c config/gunicorn.py")
    assert service["KillMode"] == "mixed" and service["Type"] == "notify"
    monkeypatch.setenv("SWITCHBOARD_ENV_FILE", "")
    monkeypatch.delenv("GUNICORN_GRACEFUL_TIMEOUT", raising=False)
    graceful = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))["graceful_timeout"]
    assert int(service["TimeoutStopSec"]) > graceful


def test_the_procfile_runs_the_same_processes():
    lines = (DEPLOY / "Procfile").read_text().splitlines()
    processes = dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))
    assert processes == {
        "release": "python manage.py migrate --no-input",
        "web": "gunicorn -c config/gunicorn.py",
        "worker": "scripts/worker",
    }
    # Procfile runners send TERM to the whole process group; scripts/worker keeps qcluster out
    # of it and passes the TERM on to its main process (tests/ops/test_worker_stop.py).
    assert "setsid" in (ROOT / "scripts" / "worker").read_text()
