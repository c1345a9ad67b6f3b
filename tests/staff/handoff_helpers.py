"""A departing account manager's book, for the handoff tests (service, races, pages, browser)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from apps.clients.models import Client
from apps.connections.models import ConnectLink, LinkedAccount, State
from apps.publishing.models import CrossPost, PublishTarget, TargetState
from apps.staff.models import User
from tests.factories import (
    ClientFactory,
    ConnectLinkFactory,
    CrossPostFactory,
    LinkedAccountFactory,
    MembershipFactory,
    PublishTargetFactory,
)


@dataclass
class Book:
    """What `departing` holds. `northwind` and `kumo` they manage and are on the team of;
    `harbor` (managed by the admin) they are only on the team of. `elsewhere` is not theirs."""

    departing: User
    northwind: Client
    kumo: Client
    harbor: Client
    elsewhere: Client
    northwind_post: CrossPost
    northwind_target: PublishTarget
    kumo_post: CrossPost
    published_post: CrossPost
    northwind_link: ConnectLink
    used_link: ConnectLink
    northwind_account: LinkedAccount
    kumo_account: LinkedAccount
    revoked_account: LinkedAccount


def build_book(*, admin: User, departing: User, northwind: Client, teammate: User) -> Book:
    """`northwind` is conftest's client_obj (managed by `departing`, `teammate` on its team)."""
    kumo = ClientFactory(name="Kumo Ramen", account_manager=departing, timezone="Asia/Tokyo")
    MembershipFactory(client=kumo, user=departing)
    MembershipFactory(client=kumo, user=teammate)
    harbor = ClientFactory(name="Harbor Lights Hotel", account_manager=admin)
    MembershipFactory(client=harbor, user=admin)
    MembershipFactory(client=harbor, user=departing)
    elsewhere = ClientFactory(name="Elsewhere Ltd")

    later = timezone.now() + timedelta(days=2)
    northwind_account = LinkedAccountFactory(
        client=northwind, handle="northwind", external_id="nw-tt", connected_by=departing
    )
    kumo_account = LinkedAccountFactory(
        client=kumo,
        platform="instagram",
        handle="kumo.ramen",
        external_id="kumo-ig",
        connected_by=departing,
    )
    # Revoked on the platform: listed, but a health check can tell nothing new.
    revoked_account = LinkedAccountFactory(
        client=kumo,
        handle="kumo.old",
        external_id="kumo-tt",
        connected_by=departing,
        state=State.REVOKED_ON_PLATFORM,
    )
    northwind_post = CrossPostFactory(client=northwind, created_by=departing, scheduled_at=later)
    northwind_target = PublishTargetFactory(
        crosspost=northwind_post, linked_account=northwind_account
    )
    kumo_post = CrossPostFactory(client=kumo, created_by=departing, scheduled_at=later)
    PublishTargetFactory(
        crosspost=kumo_post, linked_account=kumo_account, state=TargetState.RETRY_WAIT
    )
    published_post = CrossPostFactory(
        client=northwind, created_by=departing, status=CrossPost.Status.PUBLISHED
    )
    PublishTargetFactory(
        crosspost=published_post,
        linked_account=northwind_account,
        state=TargetState.PUBLISHED,
    )
    northwind_link = ConnectLinkFactory(
        client=northwind,
        platform="instagram",
        created_by=departing,
        sent_to="owner@northwind.example",
    )
    used_link = ConnectLinkFactory(
        client=northwind, created_by=departing, used_at=timezone.now() - timedelta(days=1)
    )
    return Book(
        departing=departing,
        northwind=northwind,
        kumo=kumo,
        harbor=harbor,
        elsewhere=elsewhere,
        northwind_post=northwind_post,
        northwind_target=northwind_target,
        kumo_post=kumo_post,
        published_post=published_post,
        northwind_link=northwind_link,
        used_link=used_link,
        northwind_account=northwind_account,
        kumo_account=kumo_account,
        revoked_account=revoked_account,
    )
