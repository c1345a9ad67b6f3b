from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.common.models import WorkerHeartbeat
from apps.common.tasks import heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_health_memory(monkeypatch):
    """apps.common.health remembers the last report's failures per process."""
    from apps.common import health

    monkeypatch.setattr(health, "_last_failing", ())


def test_it_is_unhealthy_without_a_worker_heartbeat(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["worker"] == {
        "ok": False,
        "last_heartbeat": None,
        "reason": "no heartbeat yet",
    }


def test_it_is_healthy_after_a_heartbeat(client):
    heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["ok"] is True


def test_it_turns_unhealthy_when_the_heartbeat_is_stale(client):
    heartbeat()
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


def test_it_reports_a_database_failure(client, monkeypatch):
    from apps.common import health

    monkeypatch.setattr(
        health, "check_database", lambda: {"ok": False, "error": "OperationalError"}
    )
    heartbeat()
    assert client.get("/healthz").status_code == 503


def test_the_heartbeat_schedule_exists():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="worker-heartbeat")
    assert schedule.func == "apps.common.tasks.heartbeat" and schedule.minutes == 1
    assert WorkerHeartbeat.objects.count() == 0


def test_a_worker_not_started_yet_is_logged_once_not_as_an_error_per_poll(client, caplog):
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            assert client.get("/healthz").status_code == 503
        heartbeat()
        assert client.get("/healthz").status_code == 200
        assert client.get("/healthz").status_code == 200

    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name.endswith("health")] == [
        ("WARNING", "Health: not healthy (worker: no heartbeat yet)"),
        ("INFO", "Health: all checks healthy"),
    ]


def test_other_server_errors_are_still_logged(client, caplog):
    from django.http import HttpResponse
    from django.utils.log import log_response

    request = client.get("/healthz").wsgi_request  # resolved as "healthz"
    caplog.clear()
    with caplog.at_level(logging.INFO):
        log_response("Oops: %s", "/healthz", response=HttpResponse(status=500), request=request)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "Oops: /healthz"
    ]
