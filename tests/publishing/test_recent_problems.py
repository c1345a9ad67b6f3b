"""The dashboard's "Recent failures": accounts of the viewer's clients whose post failed or whose
outcome nobody knows, entered in the last 7 days, newest first, at most ten, each leading to its
post page (where the account manager's email leads too) — one query at any size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from apps.publishing.lifecycle import target_transition
from apps.publishing.models import PublishTarget
from apps.publishing.selectors import recent_problems
from tests.factories import ClientFactory, MembershipFactory, PublishTargetFactory
from tests.publishing.post_builders import account, signed_in

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def problem(client, state: str, *, ago: timedelta, platform: str = "tiktok", **fields):
    return PublishTargetFactory(
        crosspost__client=client,
        linked_account=account(client, platform),
        state=state,
        state_changed_at=NOW - ago,
        **fields,
    )


def section(user) -> tuple[str, list[int]]:
    response = signed_in(user).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('<section class="card" id="recent-problems">')
    return html[start : html.index("</section>", start)], [
        t.pk for t in response.context["recent_problems"]
    ]


def test_it_lists_failed_and_unconfirmed_accounts_of_the_last_week_newest_first(
    staff_member, client_obj
):
    old = problem(client_obj, "failed", ago=timedelta(days=2))
    new = problem(client_obj, "unconfirmed", ago=timedelta(minutes=5), platform="instagram")
    problem(client_obj, "failed", ago=timedelta(days=7, seconds=1))  # too old
    for state in ("published", "scheduled", "retry_wait", "cancelled", "processing"):
        problem(client_obj, state, ago=timedelta(hours=1))

    html, shown = section(staff_member)

    assert shown == [new.pk, old.pk]
    assert html.index(reverse("publishing:post", args=[new.crosspost_id])) < html.index(
        reverse("publishing:post", args=[old.crosspost_id])
    )


def test_each_row_says_why_and_when_in_the_clients_zone(admin_user):
    tokyo = ClientFactory(name="Kumo Ramen", timezone="Asia/Tokyo")
    problem(
        tokyo,
        "failed",
        ago=timedelta(hours=1),  # 17:00 in Tokyo
        state_reason="TikTok refused the video: it is too long for this account.",
    )
    problem(tokyo, "unconfirmed", ago=timedelta(hours=2), platform="instagram")

    html, _ = section(admin_user)

    assert "<strong>Kumo Ramen</strong> · TikTok @kumo-ramen.tiktok" in html
    assert "it is too long for this account." in html
    assert '<span class="badge badge-bad">Failed</span>' in html
    assert ">Mon 3 Mar, 17:00</time> Asia/Tokyo" in html
    assert "Check the profile, then say on the post page whether it is there." in html
    assert '<span class="badge badge-warn">Unconfirmed</span>' in html


def test_it_shows_only_the_clients_the_viewer_sees(staff_member, admin_user, client_obj):
    mine = problem(client_obj, "failed", ago=timedelta(hours=1))
    theirs = problem(ClientFactory(name="Elsewhere"), "failed", ago=timedelta(hours=2))

    assert section(staff_member)[1] == [mine.pk]
    assert section(admin_user)[1] == [mine.pk, theirs.pk]


def test_a_manager_sees_the_clients_they_manage(other_manager):
    managed = ClientFactory(name="Managed Brand", account_manager=other_manager)
    mine = problem(managed, "failed", ago=timedelta(hours=1))
    assert section(other_manager)[1] == [mine.pk]


def test_it_shows_the_ten_newest(staff_member, client_obj):
    made = [problem(client_obj, "failed", ago=timedelta(hours=i)) for i in range(12)]
    _, shown = section(staff_member)
    assert shown == [t.pk for t in made[:10]]


def test_a_retried_account_leaves_the_list(staff_member, client_obj):
    target = problem(client_obj, "failed", ago=timedelta(hours=1))
    target_transition(target=target, to="scheduled", actor=staff_member)
    assert section(staff_member)[1] == []


def test_it_says_when_nothing_failed(staff_member, client_obj):
    problem(client_obj, "published", ago=timedelta(hours=1))
    html, shown = section(staff_member)
    assert shown == []
    assert "No failed posts in the last 7 days" in html


def test_it_is_one_query_with_visibility_in_the_database(
    staff_member, client_obj, django_assert_num_queries
):
    problem(client_obj, "failed", ago=timedelta(hours=1))
    problem(client_obj, "unconfirmed", ago=timedelta(hours=1), platform="instagram")
    with django_assert_num_queries(1) as ctx:
        found = recent_problems(user=staff_member)
        for target in found:  # what the template reads
            assert target.crosspost.client.name and target.linked_account.handle
    sql = ctx.captured_queries[0]["sql"]
    assert "clients_clientmembership" in sql
    assert "LIMIT 10" in sql


def test_the_query_stays_one_with_many_problems_across_many_clients(
    staff_member, django_assert_num_queries
):
    for i in range(8):
        brand = ClientFactory(name=f"Brand {i}")
        MembershipFactory(client=brand, user=staff_member)
        for platform in ("tiktok", "instagram"):
            problem(brand, "failed", ago=timedelta(hours=i), platform=platform)
    with django_assert_num_queries(1):
        found = recent_problems(user=staff_member)
        assert [t.crosspost.client.name for t in found][:2] == ["Brand 0", "Brand 0"]
    assert len(found) == 10
    assert PublishTarget.objects.count() == 16
