"""`manage.py loadtest` against pytest-django's live server, at a tiny scale: the staff it creates
sign in through the form and browse every page without an error; a wrong password and a server
error are counted as errors, and the command then exits non-zero."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.clients.models import ClientMembership
from apps.staff.models import Role, User
from tests.factories import ClientFactory, LinkedAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)

QUICK = ["--duration=1.5", "--rate=8", "--ramp-up=0.2"]


@pytest.fixture
def server(live_server: Any) -> Iterator[Any]:
    """The live server. On SQLite it answers one request at a time: its threads then share the
    test database's single in-memory connection, which fails under concurrent writes ("database
    table is locked"). The load test's users still send their requests concurrently."""
    if connection.vendor != "sqlite":
        yield live_server
        return
    httpd = live_server.thread.httpd
    app = httpd.get_app()
    lock = threading.Lock()

    def one_at_a_time(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with lock:
            return list(app(environ, start_response))

    httpd.set_app(one_at_a_time)
    yield live_server
    httpd.set_app(app)


@pytest.fixture
def demo(settings):
    settings.DEMO = True


@pytest.fixture
def agency(db):
    """Two clients, one with a connected account."""
    bakery = ClientFactory(name="Bluebird Bakery")
    LinkedAccountFactory(client=bakery)
    ClientFactory(name="Kumo Ramen")
    return bakery


def loadtest(server: Any, *args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("loadtest", f"--base-url={server.url}", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def row(output: str, page: str) -> tuple[int, int, list[float | None]]:
    """(requests, errors, [p50, p95, p99]) from the report's row for `page` ("-": None)."""
    match = re.search(rf"^{re.escape(page)}\s+(\d+)\s+(\d+)\s+(.*)$", output, re.M)
    assert match, output
    times = [None if v == "-" else float(v) for v in match[3].split()]
    return int(match[1]), int(match[2]), times


def test_it_creates_staff_who_sign_in_and_browse_every_page_without_errors(server, demo, agency):
    output, error = loadtest(server, "--create-users", "--users=3", *QUICK)

    assert error is None, output
    staff = User.objects.filter(email__endswith="@loadtest.invalid")
    assert staff.count() == 3 and {u.role for u in staff} == {Role.STAFF}
    assert ClientMembership.objects.filter(user__in=staff).count() == 6  # both teams each
    assert row(output, "sign-in page")[:2] == (3, 0)
    assert row(output, "sign in")[:2] == (3, 0)
    for page in ("dashboard", "clients list", "client page", "account page", "health fragment"):
        requests, errors, (p50, p95, p99) = row(output, page)
        assert requests >= 1 and errors == 0, (page, output)
        assert 0 < p50 <= p95 <= p99
    assert row(output, "all")[1] == 0
    assert "signed in: 3 of 3 users" in output
    assert re.search(r"throughput: [\d.]+ requests/s", output)


def test_a_burst_signs_everyone_in_within_one_second(server, demo, agency):
    output, error = loadtest(
        server, "--create-users", "--users=4", "--burst", "--duration=0.5", "--rate=4"
    )
    assert error is None, output
    spread = float(re.search(r"sign-ins started over ([\d.]+) s", output)[1])  # type: ignore[index]
    assert spread < 1.0 and "signed in: 4 of 4 users" in output


def test_a_wrong_password_is_an_error(server, demo, agency):
    loadtest(server, "--create-users", "--users=2", "--duration=0.1", "--ramp-up=0")
    output, error = loadtest(server, "--users=2", "--password=not-the-password", *QUICK)

    assert error is not None and "2 of 4 requests failed" in str(error)
    assert row(output, "sign in")[:2] == (2, 2)
    assert row(output, "dashboard")[0] == 0  # nobody got in
    assert "the sign-in form came back" in output and "signed in: 0 of 2 users" in output


def test_a_server_error_is_an_error(server, demo, agency, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the health panel broke")

    monkeypatch.setattr("apps.connections.selectors.health_counts", broken)
    output, error = loadtest(server, "--create-users", "--users=2", *QUICK)

    assert error is not None
    requests, errors, _ = row(output, "health fragment")
    assert requests >= 1 and errors == requests
    assert "health fragment: 500 Internal Server Error (GET /connections/health/)" in output
    assert row(output, "clients list")[1] == 0


def test_it_creates_users_only_in_the_demo_unless_forced(server, agency):
    _, error = loadtest(server, "--create-users", "--users=1", "--duration=0.1", "--ramp-up=0")
    assert error is not None and "--force" in str(error)
    assert not User.objects.filter(email__endswith="@loadtest.invalid").exists()

    output, error = loadtest(server, "--create-users", "--force", "--users=1", "--duration=0.1")
    assert error is None, output
    assert User.objects.filter(email__endswith="@loadtest.invalid").count() == 1
