"""The configured broker carries a real task end to end: ORM by default, Redis with REDIS_URL.

CI runs the suite once with REDIS_URL (PostgreSQL run) and once without (SQLite run), so both
brokers are exercised for real.
"""

from __future__ import annotations

import os
import queue
from multiprocessing import Value

import pytest
from django.conf import settings
from django_q.brokers import get_broker
from django_q.signing import SignedPackage
from django_q.tasks import async_task
from django_q.worker import worker

from apps.common.models import WorkerHeartbeat


@pytest.mark.django_db
def test_the_broker_matches_the_environment():
    broker = get_broker()
    expected = "Redis" if os.environ.get("REDIS_URL") else "ORM"
    assert type(broker).__name__ == expected
    assert broker.ping()


@pytest.mark.django_db(transaction=True)
def test_a_queued_task_travels_through_the_broker_and_runs():
    broker = get_broker()
    broker.purge_queue()
    task_id = async_task("apps.common.tasks.heartbeat")
    assert broker.queue_size() == 1
    dequeued = broker.dequeue()
    assert dequeued, "the broker handed back nothing"
    ack_id, payload = dequeued[0]
    task = SignedPackage.loads(payload)
    assert task["id"] == task_id and task["func"] == "apps.common.tasks.heartbeat"
    # Run it exactly as a qcluster worker process would.
    task_queue: queue.Queue = queue.Queue()
    result_queue: queue.Queue = queue.Queue()
    task_queue.put(task)
    task_queue.put("STOP")
    worker(task_queue, result_queue, Value("f", -1))
    result = result_queue.get_nowait()
    assert result["success"] is True, result["result"]
    assert WorkerHeartbeat.objects.filter(cluster=settings.Q_CLUSTER["name"]).exists()
    broker.acknowledge(ack_id)
