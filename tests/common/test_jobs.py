from __future__ import annotations

import pytest
from django.db import transaction

from apps.common import jobs


@pytest.mark.django_db(transaction=True)
def test_it_enqueues_only_after_commit(monkeypatch):
    sent = []
    monkeypatch.setattr(jobs, "async_task", lambda func, *args, **kw: sent.append((func, args)))
    with transaction.atomic():
        jobs.enqueue("apps.common.tasks.heartbeat", 42)
        assert sent == []
    assert sent == [("apps.common.tasks.heartbeat", (42,))]


@pytest.mark.django_db(transaction=True)
def test_it_drops_the_task_when_the_transaction_rolls_back(monkeypatch):
    sent = []
    monkeypatch.setattr(jobs, "async_task", lambda func, *args, **kw: sent.append(func))
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.enqueue("apps.common.tasks.heartbeat", 1)
        raise RuntimeError("rollback")
    assert sent == []


def test_it_refuses_objects_as_arguments():
    with pytest.raises(TypeError, match="ids and plain values"):
        jobs.enqueue("apps.common.tasks.heartbeat", object())  # type: ignore[arg-type]
