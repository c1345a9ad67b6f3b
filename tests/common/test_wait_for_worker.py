"""scripts/run waits for the worker's first heartbeat so that /healthz is green at the banner."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.common import jobs
from apps.common.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db(transaction=True)  # the heartbeat is queued on commit


def test_it_returns_once_the_worker_has_run_the_queued_heartbeat(client, monkeypatch):
    assert client.get("/healthz").status_code == 503
    # A worker that runs each task as soon as it is queued.
    monkeypatch.setattr(jobs, "async_task", lambda func, *args, **kw: import_string(func)(*args))
    out = StringIO()
    call_command("wait_for_worker", "--timeout", "5", stdout=out)
    assert out.getvalue().strip() == "The worker is running."
    assert client.get("/healthz").status_code == 200


def test_it_gives_up_when_no_worker_runs_the_heartbeat(monkeypatch):
    queued = []
    monkeypatch.setattr(jobs, "async_task", lambda func, *args, **kw: queued.append(func))
    # An old heartbeat from an earlier run does not count.
    WorkerHeartbeat.objects.create(cluster="switchboard", beat_at=timezone.now() - timedelta(1))
    with pytest.raises(CommandError, match=r"not run its heartbeat within 0\.3 s"):
        call_command("wait_for_worker", "--timeout", "0.3")
    assert queued == ["apps.common.tasks.heartbeat"]
