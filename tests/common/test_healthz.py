from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.common.models import WorkerHeartbeat
from apps.common.tasks import heartbeat

pytestmark = pytest.mark.django_db


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
