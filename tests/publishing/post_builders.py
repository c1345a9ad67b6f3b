"""Builders for the publishing page tests (fixtures live in tests/conftest.py; rows come from the
factories in tests/factories.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.test import Client as HttpClient

from apps.clients.models import Client
from apps.connections.models import LinkedAccount
from apps.publishing.lifecycle import derive_status
from apps.publishing.models import CrossPost, PublishTarget
from apps.staff.models import User
from tests.factories import CrossPostFactory, LinkedAccountFactory, PublishTargetFactory


def signed_in(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return http


def account(client: Client, platform: str = "tiktok", handle: str = "") -> LinkedAccount:
    """The client's account on `platform`, made once."""
    found = LinkedAccount.objects.filter(client=client, platform=platform).first()
    return found or LinkedAccountFactory(
        client=client, platform=platform, handle=handle or f"{client.slug}.{platform}"
    )


def post(
    client: Client,
    when: datetime | None,
    *,
    targets: dict[str, str] | None = None,
    draft: bool = False,
    **fields: Any,
) -> CrossPost:
    """A cross-post of `client` at `when` with one target per platform in `targets`
    ({platform: target state}; TikTok scheduled by default); its status derived as the
    lifecycle derives it."""
    targets = {"tiktok": "scheduled"} if targets is None else targets
    status = derive_status(targets.values(), draft=draft) if targets or draft else "draft"
    crosspost = CrossPostFactory(client=client, scheduled_at=when, status=status, **fields)
    for platform, state in targets.items():
        PublishTargetFactory(
            crosspost=crosspost, linked_account=account(client, platform), state=state
        )
    return crosspost


def target(crosspost: CrossPost, platform: str) -> PublishTarget:
    return crosspost.targets.get(platform=platform)
