"""The calendar's dates: which days a week or month view shows, in which timezone, and on which
day each post falls (DESIGN §11). Pure functions: no queries, no request.

Posts are stored in UTC; a view is a range of *local* days. Its bounds are local midnights turned
into UTC, so a week that crosses a DST change is 167 or 169 hours long, and a post at 23:30 UTC
falls on the next day for a client in Sydney.
"""

from __future__ import annotations

import calendar as std_calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEK = "week"
MONTH = "month"
VIEWS = (WEEK, MONTH)

# `tz` values besides an IANA name: the client's zone (one client's calendar) and the viewer's
# own (staff.User.timezone, set on the profile page; blank means the agency's TIME_ZONE).
TZ_CLIENT = "client"
TZ_MINE = "mine"

# Dates outside these years are typos or probes; they fall back to today.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2199


@dataclass(frozen=True)
class TimezoneChoice:
    value: str  # the `tz` query value
    label: str
    zone: str  # the IANA name it stands for


@dataclass(frozen=True)
class CalendarQuery:
    """What the request asked for, already validated (unknown values became the defaults)."""

    view: str
    anchor: date  # the day the user navigated to; the range contains it
    tz: TimezoneChoice
    today: date  # today in `tz`


@dataclass
class CalendarDay:
    day: date
    in_range: bool  # False for the leading/trailing days of a month grid's first and last week
    is_today: bool
    entries: list[Any] = field(default_factory=list)
    # Set by the page: what a month cell lists, how many it leaves to the week view behind
    # `week_link`.
    shown: list[Any] = field(default_factory=list)
    more: int = 0
    week_link: str = ""


@dataclass(frozen=True)
class CalendarRange:
    view: str
    anchor: date
    first: date  # first day shown (a Monday)
    end: date  # the day after the last day shown (a Monday)
    zone: ZoneInfo

    # In UTC, not in `zone`: Python subtracts two datetimes of the same tzinfo by wall time,
    # which would hide the hour a DST change adds or removes.
    @property
    def start_utc(self) -> datetime:
        return local_midnight(self.first, self.zone).astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        return local_midnight(self.end, self.zone).astimezone(UTC)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.end - self.first).days)]

    def contains_anchor_period(self, day: date) -> bool:
        """Whether `day` belongs to the period itself (the month, for a month grid)."""
        if self.view == MONTH:
            return (day.year, day.month) == (self.anchor.year, self.anchor.month)
        return self.first <= day < self.end

    @property
    def previous_anchor(self) -> date:
        if self.view == MONTH:
            return _add_months(self.anchor.replace(day=1), -1)
        return self.first - timedelta(days=7)

    @property
    def next_anchor(self) -> date:
        if self.view == MONTH:
            return _add_months(self.anchor.replace(day=1), 1)
        return self.end

    @property
    def title(self) -> str:
        if self.view == MONTH:
            return self.anchor.strftime("%B %Y")
        last = self.end - timedelta(days=1)
        if self.first.year != last.year:
            return f"{_day_month(self.first)} {self.first.year} – {_day_month(last)} {last.year}"
        if self.first.month != last.month:
            return f"{_day_month(self.first)} – {_day_month(last)} {last.year}"
        return f"{self.first.day} – {_day_month(last)} {last.year}"


def _day_month(day: date) -> str:
    return f"{day.day} {day.strftime('%B')}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = std_calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant `day` begins in `zone`, as an aware datetime (UTC offset of that moment)."""
    return datetime.combine(day, time.min, tzinfo=zone)


def calendar_range(*, view: str, anchor: date, zone: ZoneInfo) -> CalendarRange:
    """Weeks run Monday to Sunday; a month view shows the whole weeks its days fall in."""
    if view == MONTH:
        first_of_month = anchor.replace(day=1)
        first = first_of_month - timedelta(days=first_of_month.weekday())
        next_month = _add_months(first_of_month, 1)
        end = next_month + timedelta(days=(7 - next_month.weekday()) % 7)
    else:
        first = anchor - timedelta(days=anchor.weekday())
        end = first + timedelta(days=7)
    return CalendarRange(view=view, anchor=anchor, first=first, end=end, zone=zone)


def zone_or_none(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def timezone_choices(
    *,
    agency_zone: str,
    viewer_zone: str = "",
    client_zone: str | None = None,
    visible_zones: Iterable[str] = (),
) -> list[TimezoneChoice]:
    """What the `tz` selector offers: for one client its zone first, then the viewer's; for all
    clients the viewer's, then each other zone among the clients the viewer sees. The viewer's
    zone is `viewer_zone`, or the agency's when it is blank (or no longer a known zone)."""
    choices: list[TimezoneChoice] = []
    if client_zone is not None:
        choices.append(
            TimezoneChoice(TZ_CLIENT, f"Client time ({_zone_label(client_zone)})", client_zone)
        )
    if viewer_zone and zone_or_none(viewer_zone) is not None:
        mine = TimezoneChoice(TZ_MINE, f"My time ({_zone_label(viewer_zone)})", viewer_zone)
    else:
        label = f"My time (agency default, {_zone_label(agency_zone)})"
        mine = TimezoneChoice(TZ_MINE, label, agency_zone)
    choices.append(mine)
    if client_zone is None:
        for name in sorted(set(visible_zones) - {mine.zone}):
            if zone_or_none(name) is not None:
                choices.append(TimezoneChoice(name, _zone_label(name), name))
    return choices


def _zone_label(name: str) -> str:
    return name.replace("_", " ")


def parse_query(
    params: Mapping[str, str], *, choices: list[TimezoneChoice], now: datetime
) -> CalendarQuery:
    """`view=week|month`, `date=YYYY-MM-DD`, `tz=<a choice's value>`; anything else (missing,
    malformed, a zone the viewer was not offered) means the default: this week, first choice."""
    view = params.get("view", WEEK)
    if view not in VIEWS:
        view = WEEK
    by_value = {choice.value: choice for choice in choices}
    tz = by_value.get(params.get("tz", ""), choices[0])
    today = now.astimezone(ZoneInfo(tz.zone)).date()
    try:
        anchor = date.fromisoformat(params.get("date", ""))
    except ValueError:
        anchor = today
    if not EARLIEST_YEAR <= anchor.year <= LATEST_YEAR:
        anchor = today
    return CalendarQuery(view=view, anchor=anchor, tz=tz, today=today)


def place(
    entries: Iterable[Any], *, span: CalendarRange, today: date, when: str = "scheduled_at"
) -> list[CalendarDay]:
    """The days of `span`, each with the entries whose `when` falls on it in the span's zone
    (entries in the order given)."""
    days = {
        day: CalendarDay(day=day, in_range=span.contains_anchor_period(day), is_today=day == today)
        for day in span.days()
    }
    for entry in entries:
        local_day = getattr(entry, when).astimezone(span.zone).date()
        if local_day in days:
            days[local_day].entries.append(entry)
    return list(days.values())


def utc_offset_label(moment: datetime) -> str:
    """'UTC+11:00', 'UTC-03:30', 'UTC+00:00' for an aware datetime."""
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"
