"""The pages that list posts run a fixed number of queries whether they show 5 posts or 50: the
calendars (week and month, all clients and one), the client page's posts card and the
dashboard's posts due soon and recent failures (the seeded failed targets are recent). The same
ceiling holds at both sizes, and the counts are equal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.clients.models import Client
from apps.connections.models import LinkedAccount
from apps.publishing.models import CrossPost, MediaAsset, PublishTarget
from tests.factories import ClientFactory, LinkedAccountFactory, MembershipFactory

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday
MAX_QUERIES = {
    "calendar week": 10,
    "calendar month": 10,
    "client calendar week": 10,
    "client calendar month": 10,
    "dashboard": 15,
    "client page": 17,
}
STATES = ["scheduled", "published", "failed", "cancelled", "processing"]


def add_posts(n: int, *, clients: list[Client], accounts: dict[int, list[LinkedAccount]]) -> None:
    """n posts spread over the clients and the next 20 days (a few within 24 hours), each with
    a poster and a target on every account of its client."""
    start = CrossPost.objects.count()
    media = MediaAsset.objects.bulk_create(
        MediaAsset(
            client=clients[i % len(clients)],
            original_name=f"clip{start + i}.mp4",
            sha256=f"{start + i:064x}",
            size=1000,
            file=f"media/x/{start + i}",
            poster=f"posters/x/{start + i}.jpg",
        )
        for i in range(n)
    )
    posts = CrossPost.objects.bulk_create(
        CrossPost(
            client=asset.client,
            media=asset,
            caption=f"Post {start + i}",
            scheduled_at=NOW + timedelta(hours=(start + i) * 7 % (20 * 24)),
            status=CrossPost.Status.SCHEDULED if i % 2 else CrossPost.Status.PUBLISHED,
        )
        for i, asset in enumerate(media)
    )
    PublishTarget.objects.bulk_create(
        PublishTarget(
            crosspost=p,
            linked_account=account,
            platform=account.platform,
            state=STATES[i % len(STATES)],
        )
        for i, p in enumerate(posts)
        for account in accounts[p.client_id]
    )


def measure(http, client_obj: Client, assert_max) -> dict[str, int]:
    pages = {
        "calendar week": "/calendar/",
        "calendar month": "/calendar/?view=month",
        "client calendar week": f"/clients/{client_obj.slug}/calendar/",
        "client calendar month": f"/clients/{client_obj.slug}/calendar/?view=month",
        "dashboard": "/",
        "client page": f"/clients/{client_obj.slug}/",
    }
    counts = {}
    for name, path in pages.items():
        with assert_max(MAX_QUERIES[name]), CaptureQueriesContext(connection) as ctx:
            response = http.get(path)
        assert response.status_code == 200, path
        counts[name] = len(ctx.captured_queries)
    return counts


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin_user", "manager", "staff_member"])
def test_post_pages_run_a_fixed_number_of_queries_from_5_to_50_posts(
    request, client, client_obj, staff_member, manager, role, django_assert_max_num_queries
):
    others = [ClientFactory(name=f"Brand {i}", timezone="Asia/Tokyo") for i in range(3)]
    for other in others:
        MembershipFactory(client=other, user=staff_member)
    clients = [client_obj, *others]
    accounts = {
        c.pk: [
            LinkedAccountFactory(client=c, platform="tiktok"),
            LinkedAccountFactory(client=c, platform="instagram"),
        ]
        for c in clients
    }
    client.force_login(request.getfixturevalue(role))
    with time_machine.travel(NOW, tick=False):
        client.get("/")  # warm the session and per-process caches

        add_posts(5, clients=clients, accounts=accounts)
        small = measure(client, client_obj, django_assert_max_num_queries)
        add_posts(45, clients=clients, accounts=accounts)
        assert CrossPost.objects.count() == 50
        large = measure(client, client_obj, django_assert_max_num_queries)

    print(f"queries as {role}, 5 vs 50 posts: {small} vs {large}")
    assert small == large
