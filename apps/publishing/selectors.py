"""Reads for the calendar, the post page, the client page's posts card and the dashboard, shaped
for their templates: each runs a fixed number of queries however many posts it returns
(STYLE rule 2; tests/publishing/test_query_counts.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from apps.clients.access import clients_visible_to, scope_to_visible_clients
from apps.clients.models import Client
from apps.publishing.lifecycle import PROBLEM_STATES
from apps.publishing.models import CrossPost, PublishAttempt, PublishTarget

# A range with more posts than this shows the first ones and says so: a page of thousands of
# posts helps nobody, and the cap keeps the page's cost bounded as the agency grows.
CALENDAR_MAX_POSTS = 400
DUE_SOON_LIMIT = 10
DUE_SOON_WINDOW = timedelta(hours=24)
CLIENT_CARD_LIMIT = 5

# The client card's "coming up": waiting for their time, or going out now.
UPCOMING_STATUSES = (CrossPost.Status.SCHEDULED, CrossPost.Status.PUBLISHING)
# The client card's "latest results": posts whose publishing has ended, one way or another.
RESULT_STATUSES = (
    CrossPost.Status.PUBLISHED,
    CrossPost.Status.PARTIALLY_PUBLISHED,
    CrossPost.Status.FAILED,
)


def _targets_with_accounts() -> Prefetch:
    return Prefetch(
        "targets",
        queryset=PublishTarget.objects.select_related("linked_account").order_by("platform", "pk"),
    )


def _posts_for_display() -> QuerySet[CrossPost]:
    # The probe is the biggest column of a media row and no list shows it.
    return (
        CrossPost.objects.select_related("client", "media")
        .defer("media__probe")
        .prefetch_related(_targets_with_accounts())
    )


@dataclass(frozen=True)
class CalendarPosts:
    posts: list[CrossPost]
    truncated: bool  # more than CALENDAR_MAX_POSTS fell in the range


def calendar_posts(
    *,
    user: Any,
    start: datetime,
    end: datetime,
    client: Client | None = None,
    status: str = "",
    limit: int | None = None,
) -> CalendarPosts:
    """Posts with a time in [start, end) of one client, or of every client `user` sees, in time
    order, at most `limit` (CALENDAR_MAX_POSTS). Drafts without a time have no place on a
    calendar and are never returned."""
    limit = limit or CALENDAR_MAX_POSTS
    posts = _posts_for_display().filter(scheduled_at__gte=start, scheduled_at__lt=end)
    if client is not None:
        posts = posts.filter(client=client)
    else:
        posts = posts.filter(client__in=clients_visible_to(user).values("pk"))
    if status:
        posts = posts.filter(status=status)
    found = list(posts.order_by("scheduled_at", "pk")[: limit + 1])
    return CalendarPosts(posts=found[:limit], truncated=len(found) > limit)


def visible_client_zones(*, user: Any) -> list[str]:
    """The distinct timezones of the clients `user` sees (the calendar's timezone choices)."""
    return list(
        clients_visible_to(user).order_by().values_list("timezone", flat=True).distinct()[:50]
    )


def crosspost_targets(*, crosspost: CrossPost) -> list[PublishTarget]:
    """The post page's targets with their accounts and platform calls (in the order they were
    made), by platform as in every list: two queries however many calls there were."""
    return list(
        PublishTarget.objects.filter(crosspost=crosspost)
        .select_related("linked_account")
        .prefetch_related(
            Prefetch("calls", queryset=PublishAttempt.objects.order_by("started_at", "id"))
        )
        .order_by("platform", "pk")
    )


RECENT_PROBLEMS_LIMIT = 10
RECENT_PROBLEMS_WINDOW = timedelta(days=7)


def recent_problems(*, user: Any, now: datetime | None = None) -> list[PublishTarget]:
    """The dashboard's recent failures: targets of the clients `user` sees that failed or whose
    outcome is unknown, entered in the last 7 days, newest first, at most RECENT_PROBLEMS_LIMIT.

    One query at any size: the (state, state_changed_at) index reads only the window of the two
    problem states, and visibility is a subquery.
    """
    now = now or timezone.now()
    targets = (
        PublishTarget.objects.filter(
            state__in=PROBLEM_STATES, state_changed_at__gte=now - RECENT_PROBLEMS_WINDOW
        )
        .select_related("crosspost__client", "linked_account")
        .defer("checkpoint", "findings", "options", "crosspost__caption_overrides")
        .order_by("-state_changed_at", "-pk")
    )
    return list(
        scope_to_visible_clients(targets, user, field="crosspost__client")[:RECENT_PROBLEMS_LIMIT]
    )


@dataclass(frozen=True)
class DueSoon:
    posts: list[CrossPost]
    has_more: bool


def posts_due_soon(*, user: Any, now: datetime | None = None) -> DueSoon:
    """Scheduled posts of the clients `user` sees whose time is in the next 24 hours, soonest
    first, at most DUE_SOON_LIMIT.

    Cheap at any size: the (status, scheduled_at) index reads only the window, and visibility is
    a subquery, never a list of client ids pulled into Python.
    """
    now = now or timezone.now()
    posts = list(
        _posts_for_display()
        .filter(
            status=CrossPost.Status.SCHEDULED,
            scheduled_at__gte=now,
            scheduled_at__lt=now + DUE_SOON_WINDOW,
            client__in=clients_visible_to(user).values("pk"),
        )
        .order_by("scheduled_at", "pk")[: DUE_SOON_LIMIT + 1]
    )
    return DueSoon(posts=posts[:DUE_SOON_LIMIT], has_more=len(posts) > DUE_SOON_LIMIT)


@dataclass(frozen=True)
class ClientPosts:
    upcoming: list[CrossPost]
    results: list[CrossPost]


def client_posts(*, client: Client) -> ClientPosts:
    """The client page's posts card: the next posts to go out and the latest results (three
    queries: each list, then every target of both at once)."""
    base = CrossPost.objects.filter(client=client).select_related("media").defer("media__probe")
    upcoming = list(
        base.filter(status__in=UPCOMING_STATUSES, scheduled_at__isnull=False).order_by(
            "scheduled_at", "pk"
        )[:CLIENT_CARD_LIMIT]
    )
    results = list(
        base.filter(status__in=RESULT_STATUSES).order_by(
            F("scheduled_at").desc(nulls_last=True), "-pk"
        )[:CLIENT_CARD_LIMIT]
    )
    posts = upcoming + results
    if posts:
        prefetch_related_objects(posts, _targets_with_accounts())
    for post in posts:
        post.client = client  # the card knows its client; no query per post for it
    return ClientPosts(upcoming=upcoming, results=results)
