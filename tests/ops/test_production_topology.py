"""The production topology on one machine, end to end: DEBUG off, no demo, gunicorn with two
workers and a qcluster as real processes, PostgreSQL (a database this test creates and drops)
and Redis (a database number of its own), behind a stand-in for the TLS-terminating proxy with
BEHIND_TLS_PROXY on (deploy/README.md).

A manager created through manage.py signs in through the allauth form, opens the main pages,
connects a TikTok account through the sandbox (forced on, mounted in the same gunicorn under
/_emulator/) and checks it, then everything is stopped with SIGTERM as systemd stops it.

It runs wherever PostgreSQL and Redis answer on 127.0.0.1; without them it is skipped, except
in CI (CI=true), where that is a failure. tests/ops/test_gunicorn.py shows the other side:
without BEHIND_TLS_PROXY a forwarded https is not believed.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.ops.processes import (
    ROOT,
    Process,
    free_port,
    manage,
    production_env,
    start_gunicorn,
    start_qcluster,
    stop_all,
    wait_for_log,
    wait_for_port,
)
from tests.ops.proxy import BrowserBehindTls, TlsProxy

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
REDIS_URL = "redis://127.0.0.1:6379/14"  # this test's own database number, emptied by it
PASSWORD = "smoke-test-password-7b1f"
MANAGER = "smoke-manager@agency.example"
CREATE_PEOPLE = f"""
from apps.clients import services
from apps.staff.models import Role, User
manager = User.objects.create_user(
    {MANAGER!r}, {PASSWORD!r}, name="Smoke Manager", role=Role.MANAGER
)
client = services.client_create(
    actor=manager, name="Smoke Test Bakery", timezone_name="Europe/London"
)
print(client.slug)
"""


# CI runs the suite twice, against PostgreSQL + Redis and then against SQLite + the ORM broker;
# this test starts its own PostgreSQL database either way, so it runs in the first pass only.
ONCE_IN_CI = pytest.mark.skipif(
    bool(os.environ.get("CI")) and not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="runs in CI's PostgreSQL pass",
)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"The production-topology test must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; yields its URL."""
    import psycopg

    name = f"switchboard_smoke_{os.getpid()}"
    try:
        admin = psycopg.connect(**POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        _unavailable(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({error})")
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgres://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        connection.flushdb()
    except redis.RedisError as error:
        _unavailable(f"Redis is not reachable on 127.0.0.1:6379 ({error})")
    yield REDIS_URL
    with contextlib.suppress(redis.RedisError):
        connection.flushdb()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)


@ONCE_IN_CI
def test_the_production_topology_serves_signs_in_connects_and_stops(
    postgres_database: str, redis_url: str, tmp_path: Path
):
    started = time.monotonic()
    web_port = free_port()
    proxy = TlsProxy(web_port).start()
    env = production_env(
        DATABASE_URL=postgres_database,
        REDIS_URL=redis_url,
        Q_CLUSTER_NAME=f"smoke{os.getpid()}",
        Q_LOG_LEVEL="INFO",
        BEHIND_TLS_PROXY="1",
        TRUSTED_PROXY_COUNT="1",
        # The sandbox, forced on with DEBUG off, stands in for TikTok and Instagram. The app
        # reaches it, like the platforms reach the app, at the public address: the proxy's.
        EMULATOR_ENABLED="1",
        EMULATOR_FORCE="1",
        PUBLIC_BASE_URL=proxy.url,
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    processes: list[Process] = []
    try:
        # --- A release: migrate and collectstatic (side by side), then the first staff member.
        collectstatic = subprocess.Popen(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        migrate = manage("migrate", "--no-input", "-v", "0", env=env)
        assert migrate.returncode == 0, migrate.stderr
        assert collectstatic.wait(120) == 0, collectstatic.stdout and collectstatic.stdout.read()
        people = manage("shell", "--no-imports", "-c", CREATE_PEOPLE, env=env)
        assert people.returncode == 0, people.stderr
        slug = people.stdout.split()[-1]

        # --- The processes, as deploy/ starts them.
        web = start_gunicorn(port=web_port, env=env, log_dir=tmp_path, workers=2)
        worker = start_qcluster(env=env, log_dir=tmp_path)
        processes += [web, worker]
        wait_for_port(web_port, web)
        wait_for_log(web, "Booting worker", times=2)
        wait_for_log(worker, "running.")
        beat = manage("wait_for_worker", "--timeout", "30", env=env)
        assert beat.returncode == 0, beat.stderr + worker.tail()

        # --- Straight to gunicorn, without the proxy's header: plain http, sent to https.
        direct = requests.get(
            f"http://127.0.0.1:{web_port}/healthz", allow_redirects=False, timeout=10
        )
        assert direct.status_code == 301
        assert direct.headers["Location"] == f"https://127.0.0.1:{web_port}/healthz"

        browser = BrowserBehindTls()
        base = proxy.url

        def post(path_or_url: str, data: dict[str, Any], **kwargs: Any) -> requests.Response:
            url = path_or_url if path_or_url.startswith("http") else base + path_or_url
            return browser.post(url, data=data, headers={"Origin": proxy.origin}, **kwargs)

        # --- Health: database, Redis broker and the worker's heartbeat.
        health = browser.get(base + "/healthz")
        assert health.status_code == 200, health.text
        checks = health.json()["checks"]
        assert checks["database"]["vendor"] == "postgresql"
        assert checks["broker"]["broker"] == "Redis"
        assert checks["worker"]["cluster"] == f"smoke{os.getpid()}"

        # --- Sign in through the allauth form (CSRF cookie + token), over "https".
        form = browser.get(base + "/accounts/login/")
        assert form.status_code == 200
        assert "csrftoken" in browser.cookies
        signed_in = post(
            "/accounts/login/",
            {"csrfmiddlewaretoken": csrf_token(form.text), "login": MANAGER, "password": PASSWORD},
        )
        assert signed_in.status_code == 200 and urlsplit(signed_in.url).path == "/"
        assert "Good to see you" in signed_in.text
        session_cookie = next(c for c in browser.cookies if c.name == "sessionid")
        assert session_cookie.secure  # https-only, as production requires

        # --- The main pages.
        for path in ("/", "/clients/", f"/clients/{slug}/", "/audit/", "/connections/health/"):
            page = browser.get(base + path)
            assert page.status_code == 200, (path, page.status_code, web.tail())
            assert "Strict-Transport-Security" in page.headers  # the request counted as https

        # --- Connect TikTok through the sandbox's consent page.
        client_page = browser.get(f"{base}/clients/{slug}/")
        to_consent = post(
            f"/clients/{slug}/connect/tiktok/",
            {"csrfmiddlewaretoken": csrf_token(client_page.text)},
            allow_redirects=False,
        )
        assert to_consent.status_code == 302, to_consent.text
        consent_url = to_consent.headers["Location"]
        assert consent_url.startswith(base + "/_emulator/tiktok/")
        consent = browser.get(consent_url)
        assert consent.status_code == 200, consent.text
        scopes = re.findall(r'name="scopes" value="([^"]+)"', consent.text)
        approved = post(
            consent_url,
            {
                "csrfmiddlewaretoken": csrf_token(consent.text),
                "account": "tt-public",
                "scopes": scopes,
                "decision": "allow",
            },
            allow_redirects=False,
        )
        assert approved.status_code == 302, approved.text
        callback = approved.headers["Location"]
        code = parse_qs(urlsplit(callback).query)["code"][0]
        account_page = browser.get(callback)
        assert account_page.status_code == 200, web.tail()
        match = re.search(r"/connections/(\d+)/$", urlsplit(account_page.url).path)
        assert match, account_page.url
        assert "TikTok @sbx.creator is connected." in account_page.text
        account = f"/connections/{match.group(1)}/"

        # --- Check it now: two calls to the sandbox's API from gunicorn, through the proxy.
        checked = post(f"{account}check/", {"csrfmiddlewaretoken": csrf_token(account_page.text)})
        assert checked.status_code == 200 and urlsplit(checked.url).path == account
        assert "Checked just now: the platform accepts the connection." in checked.text
        assert re.search(r'data-testid="state-badge">\s*Active\s*<', checked.text)
        audit = browser.get(base + "/audit/")
        assert audit.status_code == 200 and "Smoke Test Bakery" in audit.text

        # --- Stop: SIGTERM to each main process at once; all gone within 10 s.
        times = stop_all(processes, within=10)
    finally:
        for process in processes:
            process.kill()
        proxy.stop()

    log = web.log()
    assert "/oauth/callback/tt/?code=[redacted]" in log
    assert code not in log, "the OAuth code reached gunicorn's access log"
    assert "Shutting down: Master" in log and "has stopped." in worker.log()
    print(
        f"production topology: {time.monotonic() - started:.1f} s in all; stopped "
        + ", ".join(f"{name} in {seconds:.1f} s" for name, seconds in times.items())
        + f"; {proxy.forwarded} requests through the proxy"
    )
