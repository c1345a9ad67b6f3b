"""Wall-clock times in a client's timezone and the UTC instants they name (DESIGN §4:
`CrossPost.scheduled_at` is stored in UTC and edited in the client's timezone).

A wall-clock time can fail to name exactly one instant around a daylight-saving change: in the
spring-forward gap it names none (refused, with the gap spelled out), in the fall-back hour it
names two (the person picks which; we never guess).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def offset_label(moment: datetime) -> str:
    """'UTC+11:00', 'UTC-03:30', 'UTC+00:00' for an aware datetime."""
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def zone_label(name: str, at: datetime | None = None) -> str:
    """'Australia/Sydney (UTC+11:00)': the zone with its offset at `at` (default: now)."""
    moment = (at or datetime.now(UTC)).astimezone(zone(name))
    return f"{name} ({offset_label(moment)})"


def to_local(instant: datetime, name: str) -> datetime:
    """The aware wall-clock time of `instant` in zone `name` (fold set for the repeated hour)."""
    return instant.astimezone(zone(name))


def describe(instant: datetime, name: str) -> str:
    """'Sun 5 Oct 2025, 09:00 AEDT (UTC+11:00)' in the client's zone."""
    local = to_local(instant, name)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()} ({offset_label(local)})"


@dataclass(frozen=True)
class Occurrence:
    """One of the two instants a repeated wall-clock time names."""

    fold: int  # 0 = the first time the clock shows it, 1 = the second
    instant: datetime  # UTC
    offset: str  # 'UTC+11:00'
    abbreviation: str  # 'AEDT'

    @property
    def label(self) -> str:
        which = "first" if self.fold == 0 else "second"
        return f"The {which} time, {self.abbreviation} ({self.offset})"


class LocalTimeError(ValueError):
    """A wall-clock time that doesn't name exactly one instant; the message says why."""


class NonexistentTime(LocalTimeError):
    def __init__(self, wall: datetime, name: str, gap_start: datetime, gap_end: datetime) -> None:
        self.gap_start, self.gap_end = gap_start, gap_end
        super().__init__(
            f"{wall:%H:%M} on {_day(wall)} doesn't exist in {name}: the clocks go forward from "
            f"{gap_start:%H:%M} to {gap_end:%H:%M} that night. Choose a time before "
            f"{gap_start:%H:%M} or from {gap_end:%H:%M} on."
        )


class AmbiguousTime(LocalTimeError):
    def __init__(self, wall: datetime, name: str, occurrences: tuple[Occurrence, Occurrence]):
        self.occurrences = occurrences
        first, second = occurrences
        super().__init__(
            f"{wall:%H:%M} on {_day(wall)} happens twice in {name}, because the clocks go back "
            f"that night: first in {first.abbreviation} ({first.offset}), then an hour later in "
            f"{second.abbreviation} ({second.offset}). Choose which one you mean."
        )


def _day(wall: datetime) -> str:
    return f"{wall:%A} {wall.day} {wall:%B %Y}"


def occurrences(day: date, at: time, name: str) -> tuple[Occurrence, ...]:
    """The instants the wall-clock time names: none (gap), one, or two (repeated hour)."""
    tz = zone(name)
    naive = datetime.combine(day, at)
    found: list[Occurrence] = []
    for fold in (0, 1):
        candidate = naive.replace(tzinfo=tz, fold=fold)
        instant = candidate.astimezone(UTC)
        # A time in the gap doesn't survive the round trip: it comes back shifted by the jump.
        if instant.astimezone(tz).replace(tzinfo=None) != naive:
            continue
        if any(o.instant == instant for o in found):
            continue
        found.append(
            Occurrence(
                fold=fold,
                instant=instant,
                offset=offset_label(candidate),
                abbreviation=candidate.tzname() or "",
            )
        )
    return tuple(found)


def to_utc(day: date, at: time, name: str, *, fold: int | None = None) -> datetime:
    """The UTC instant of `day` `at` in zone `name`.

    Raises NonexistentTime in a spring-forward gap, and AmbiguousTime in a fall-back hour unless
    `fold` (0 = first, 1 = second occurrence) says which one.
    """
    found = occurrences(day, at, name)
    if not found:
        start, end = _gap_around(datetime.combine(day, at), zone(name))
        raise NonexistentTime(datetime.combine(day, at), name, start, end)
    if len(found) == 1:
        return found[0].instant
    if fold not in (0, 1):
        first, second = found
        raise AmbiguousTime(datetime.combine(day, at), name, (first, second))
    return found[fold].instant


def _gap_around(naive: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The skipped wall-clock span [start, end) that contains `naive`.

    For a time in the gap, `fold=0` reads it with the offset before the change and `fold=1` with
    the one after, so the change itself lies between those two UTC readings; walk it by minute.
    """
    before = naive.replace(tzinfo=tz, fold=0).utcoffset() or timedelta(0)
    after = naive.replace(tzinfo=tz, fold=1).utcoffset() or timedelta(0)
    low = (naive - before).replace(tzinfo=UTC)
    high = (naive - after).replace(tzinfo=UTC)
    start, end = min(low, high), max(low, high)
    moment = start
    while moment <= end and (moment.astimezone(tz).utcoffset() or timedelta(0)) != after:
        moment += MINUTE
    change = moment.replace(tzinfo=None)
    return change + before, change + after
