"""config/gunicorn.py: options from the environment, forwarded headers trusted only behind a TLS
proxy, and access-log lines redacted like every other log line (DESIGN §10)."""

from __future__ import annotations

import logging
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from tests.ops.processes import ROOT, free_port, production_env, start_gunicorn, wait_for_port

CONFIG = str(ROOT / "config" / "gunicorn.py")
GUNICORN_VARIABLES = (
    "GUNICORN_BIND",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_KEEPALIVE",
    "GUNICORN_ACCESS_LOG",
    "GUNICORN_LOG_LEVEL",
    "FORWARDED_ALLOW_IPS",
    "BEHIND_TLS_PROXY",
    "PORT",
)
# Shaped like Instagram's tokens, which travel in the query (PLATFORMS §2).
TOKEN = "IGQVJXsecret" + "x" * 40


@pytest.fixture
def load_config(monkeypatch: pytest.MonkeyPatch):
    """load_config(**env) -> the settings gunicorn reads from config/gunicorn.py."""

    def load(**env: str) -> dict[str, Any]:
        for name in GUNICORN_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("SWITCHBOARD_ENV_FILE", "")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(CONFIG)

    return load


def test_it_reads_bind_workers_threads_and_timeouts_from_the_environment(load_config):
    config = load_config(
        GUNICORN_BIND="10.0.0.5:9000,unix:/run/switchboard.sock",
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="8",
        GUNICORN_TIMEOUT="45",
        GUNICORN_GRACEFUL_TIMEOUT="20",
        GUNICORN_KEEPALIVE="75",
    )
    assert config["bind"] == ["10.0.0.5:9000", "unix:/run/switchboard.sock"]
    assert (config["workers"], config["threads"], config["worker_class"]) == (3, 8, "gthread")
    assert (config["timeout"], config["graceful_timeout"], config["keepalive"]) == (45, 20, 75)
    assert config["wsgi_app"] == "config.wsgi:application"


def test_its_defaults_listen_on_loopback_with_timeouts_set(load_config):
    config = load_config()
    assert config["bind"] == ["127.0.0.1:8000"]
    assert config["workers"] >= 3 and config["threads"] == 4
    assert config["timeout"] == 30 and config["graceful_timeout"] == 30
    assert config["keepalive"] == 5
    assert config["accesslog"] == "-"
    assert load_config(PORT="5000")["bind"] == ["0.0.0.0:5000"]


def test_forwarded_headers_are_trusted_only_behind_a_tls_proxy(load_config):
    for alone in (load_config(), load_config(FORWARDED_ALLOW_IPS="10.0.0.2")):
        assert alone["forwarded_allow_ips"] == "" and alone["secure_scheme_headers"] == {}
    behind = load_config(BEHIND_TLS_PROXY="1", FORWARDED_ALLOW_IPS="10.0.0.2,10.0.0.3")
    assert behind["forwarded_allow_ips"] == "10.0.0.2,10.0.0.3"
    assert behind["secure_scheme_headers"] == {"X-FORWARDED-PROTO": "https"}
    assert load_config(BEHIND_TLS_PROXY="1")["forwarded_allow_ips"] == "127.0.0.1,::1"


class Lines(logging.Handler):
    """Keeps each line as a handler of gunicorn's own logger receives it."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_its_logger_redacts_access_lines(load_config):
    from gunicorn.config import Config

    cfg = Config()
    cfg.set("accesslog", "-")
    logger = load_config()["logger_class"](cfg)
    lines = Lines()
    logger.access_log.addHandler(lines)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/oauth/callback/ig/?code=AQBx-secret-code&access_token={TOKEN}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.9",
    }
    response = SimpleNamespace(status="302 Found", headers=[], sent=0)
    try:
        logger.access(response, {}, environ, timedelta(milliseconds=12))
    finally:
        logger.access_log.removeHandler(lines)
    [line] = lines.lines
    assert "code=[redacted]" in line and "access_token=[redacted]" in line
    assert "AQBx-secret-code" not in line and TOKEN not in line


def test_a_real_gunicorn_redacts_its_access_log_and_ignores_an_untrusted_forwarded_proto(
    tmp_path: Path,
):
    """Production settings without BEHIND_TLS_PROXY: a request claiming https through
    X-Forwarded-Proto is still plain http to gunicorn and Django, so it is redirected to https
    (SECURE_SSL_REDIRECT), even from 127.0.0.1, which gunicorn would trust by default."""
    port = free_port()
    env = production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    web = start_gunicorn(port=port, env=env, log_dir=tmp_path, workers=1)
    try:
        wait_for_port(port, web)
        response = requests.get(
            f"http://127.0.0.1:{port}/healthz",
            params={"access_token": TOKEN, "page": "1"},
            headers={
                "X-Forwarded-Proto": "https",
                "Referer": "https://switchboard.example/oauth/callback/tt/?code=ref-secret-code",
            },
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 301, web.tail()
        assert response.headers["Location"].startswith("https://127.0.0.1:")
        web.stop()
    finally:
        web.kill()
    log = web.log()
    [line] = [line for line in log.splitlines() if '"GET /healthz?' in line]
    assert "access_token=[redacted]&page=1" in line and "code=[redacted]" in line
    assert " 301 " in line and " rid=" in line
    assert TOKEN not in log and "ref-secret-code" not in log
