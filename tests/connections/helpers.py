"""Small helpers shared by the connections tests (no fixtures live here; builders are the
factories in tests/factories.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from apps.clients.models import Client
from apps.connections.models import LinkedAccount
from tests.connections.sandbox import staff_client


def connect(oauth: Callable[..., Any], user: Any, client: Client, platform: str, **kw: Any):
    """Connect a sandbox account through the real OAuth flow; returns the LinkedAccount."""
    response = oauth(staff_client(user), client, platform, **kw)
    assert response.status_code == 302, response.content[:300]
    account_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    return LinkedAccount.objects.get(pk=account_id)


@contextmanager
def captured_tasks() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Every django-q task enqueued inside the block, as (func path, args)."""
    calls: list[tuple[str, tuple[Any, ...]]] = []

    def fake(func: str, *args: Any, **kwargs: Any) -> str:
        calls.append((func, args))
        return "task-id"

    with mock.patch("apps.common.jobs.async_task", side_effect=fake):
        yield calls
