"""The calendar: every client the viewer sees, or one client; a week or a month, in a chosen
timezone (apps/publishing/calendar.py). Navigation is plain links, so it works without
JavaScript."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.clients.access import get_client_for_view
from apps.clients.models import Client
from apps.publishing import selectors
from apps.publishing.access import can_schedule_for
from apps.publishing.calendar import (
    MONTH,
    WEEK,
    CalendarQuery,
    TimezoneChoice,
    calendar_range,
    parse_query,
    place,
    timezone_choices,
)
from apps.publishing.models import CrossPost
from apps.staff.types import AuthedRequest

# A month cell lists this many posts, then links to its week for the rest.
MONTH_CELL_POSTS = 4


@login_required
def calendar(request: AuthedRequest) -> HttpResponse:
    zones = selectors.visible_client_zones(user=request.user)
    choices = timezone_choices(
        agency_zone=settings.TIME_ZONE, viewer_zone=request.user.timezone, visible_zones=zones
    )
    return _calendar_page(request, client=None, choices=choices)


@login_required
def client_calendar(request: AuthedRequest, slug: str) -> HttpResponse:
    client = get_client_for_view(request.user, slug)
    choices = timezone_choices(
        agency_zone=settings.TIME_ZONE,
        viewer_zone=request.user.timezone,
        client_zone=client.timezone,
    )
    return _calendar_page(request, client=client, choices=choices)


def _calendar_page(
    request: AuthedRequest, *, client: Client | None, choices: list[TimezoneChoice]
) -> HttpResponse:
    query = parse_query(request.GET, choices=choices, now=timezone.now())
    status = request.GET.get("status", "")
    if status not in CrossPost.Status.values:
        status = ""
    span = calendar_range(view=query.view, anchor=query.anchor, zone=ZoneInfo(query.tz.zone))
    found = selectors.calendar_posts(
        user=request.user, start=span.start_utc, end=span.end_utc, client=client, status=status
    )
    link = _Links(query=query, default_tz=choices[0].value, status=status)
    days = place(found.posts, span=span, today=query.today)
    limit = MONTH_CELL_POSTS if query.view == MONTH else None
    for day in days:
        day.shown = day.entries[:limit]
        day.more = len(day.entries) - len(day.shown)
        day.week_link = link(view=WEEK, date=day.day.isoformat())
    context = {
        "client": client,
        "query": query,
        "span": span,
        "days": days,
        # Posts on the days of the period itself (a month grid's spill-over days don't count).
        "post_count": sum(len(day.entries) for day in days if day.in_range),
        "truncated": found.truncated,
        "max_posts": selectors.CALENDAR_MAX_POSTS,
        "zone": query.tz.zone,
        "tz_choices": choices,
        "status": status,
        "status_label": CrossPost.Status(status).label if status else "",
        "status_choices": CrossPost.Status.choices,
        "links": {
            "previous": link(date=span.previous_anchor.isoformat()),
            "next": link(date=span.next_anchor.isoformat()),
            "today": link(date=None),
            "week": link(view=WEEK),
            "month": link(view=MONTH),
        },
        "can_post": client is not None and can_schedule_for(client),
    }
    return render(request, "publishing/calendar.html", context)


class _Links:
    """Query strings for the calendar's own links: the current view, date, timezone and filter,
    with one of them changed; defaults are left out so the links stay short."""

    def __init__(self, *, query: CalendarQuery, default_tz: str, status: str) -> None:
        self.current: dict[str, Any] = {
            "view": query.view,
            "date": query.anchor.isoformat(),
            "tz": query.tz.value,
            "status": status,
        }
        self.defaults = {"view": WEEK, "date": None, "tz": default_tz, "status": ""}

    def __call__(self, **changes: Any) -> str:
        params = {**self.current, **changes}
        kept = {k: v for k, v in params.items() if v and v != self.defaults[k]}
        return "?" + urlencode(kept) if kept else "?"
