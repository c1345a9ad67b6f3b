"""Small builders shared by the connections service tests (no fixtures live here)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from apps.clients.models import Client
from apps.connections import vault
from apps.connections.models import Capability, LinkedAccount, State
from apps.platforms.types import TokenSet
from tests.connections.conftest import staff_client

DAY = 24 * 3600


def make_account(
    client: Client,
    platform: str = "tiktok",
    *,
    state: str = State.ACTIVE,
    external_id: str | None = None,
    **fields: Any,
) -> LinkedAccount:
    """A linked account written straight to the database (no platform involved)."""
    return LinkedAccount.objects.create(
        client=client,
        platform=platform,
        external_id=external_id or f"{platform}-{LinkedAccount.objects.count() + 1}",
        handle=fields.pop("handle", "brand"),
        state=state,
        publish_capability=fields.pop("publish_capability", Capability.OK),
        **fields,
    )


def store_tokens(
    account: LinkedAccount,
    *,
    access: str = "act.test",
    refresh: str | None = "rft.test",
    expires_in: int | None = DAY,
    refresh_expires_in: int | None = 365 * DAY,
    **kwargs: Any,
) -> Any:
    return vault.credential_store(
        account=account,
        tokens=TokenSet(
            access_token=access,
            expires_in=expires_in,
            refresh_token=refresh,
            refresh_expires_in=refresh_expires_in,
        ),
        **kwargs,
    )


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
