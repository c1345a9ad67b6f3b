"""The monthly report of one client: connection changes, posts published and failed, access
changes — for a manager to print or save as PDF.

The month is the client's calendar month, in the client's time zone (the brand's own month; its
posts are scheduled in that zone too). Posts come from the audit log (`post.*`) and, read only,
from publishing's targets.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from apps.audit.actions import GROUPS_BY_KEY, AuditAction
from apps.audit.models import AuditEvent
from apps.audit.search import id_bounds

# Each section lists at most this many rows (and says how many more there were).
SECTION_ROWS = 300
# Health checks run several times a day: counted, not listed.
QUIET_CONNECTION_ACTIONS = {AuditAction.CONNECTION_CHECKED.value}
ACCESS_ACTIONS = {
    AuditAction.MEMBERSHIP_ADDED.value,
    AuditAction.MEMBERSHIP_REMOVED.value,
    AuditAction.CLIENT_CREATED.value,
    AuditAction.CLIENT_ARCHIVED.value,
    AuditAction.CLIENT_UNARCHIVED.value,
}


@dataclass(frozen=True)
class Section:
    rows: list[Any]
    more: int  # rows beyond SECTION_ROWS

    @property
    def total(self) -> int:
        return len(self.rows) + self.more


@dataclass(frozen=True)
class MonthlyReport:
    client: Any
    month: date  # the first day
    zone: ZoneInfo
    start: datetime
    end: datetime
    connections: Section
    checks: int
    access: Section
    post_events: Section
    post_counts: list[tuple[str, int]]  # (action label, count)
    published: Section  # PublishTargets published in the month
    failed: Section  # PublishTargets that failed in the month

    @property
    def previous_month(self) -> date:
        return date(self.month.year - (self.month.month == 1), (self.month.month - 2) % 12 + 1, 1)

    @property
    def next_month(self) -> date:
        return date(self.month.year + (self.month.month == 12), self.month.month % 12 + 1, 1)


def month_range(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(month.replace(day=1), time.min, zone)
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return start, datetime.combine(following, time.min, zone)


def _section(rows: list[Any]) -> Section:
    return Section(rows[:SECTION_ROWS], max(0, len(rows) - SECTION_ROWS))


def _events(client: Any, start: datetime, end: datetime) -> QuerySet[AuditEvent]:
    low, high = id_bounds(start, end)
    qs = AuditEvent.objects.filter(
        client_id=client.pk, occurred_at__gte=start, occurred_at__lt=end, id__gte=low
    )
    return (qs if high is None else qs.filter(id__lt=high)).order_by("id")


def _access_changes() -> Q:
    """Team changes, a new account manager (an edit that changed it), and handoffs."""
    return (
        Q(action__in=ACCESS_ACTIONS)
        | Q(action__in=GROUPS_BY_KEY["staff"].codes)
        | Q(action=AuditAction.CLIENT_EDITED, data__changes__has_key="account_manager")
    )


def client_monthly_report(*, client: Any, month: date) -> MonthlyReport:
    zone = ZoneInfo(client.timezone)
    start, end = month_range(month, zone)
    events = _events(client, start, end)
    limit = SECTION_ROWS + 1
    connection_codes = GROUPS_BY_KEY["connections"].codes
    connections = list(
        events.filter(action__in=connection_codes)
        .exclude(action__in=QUIET_CONNECTION_ACTIONS)
        .order_by("id")[:limit]
    )
    checks = events.filter(action__in=QUIET_CONNECTION_ACTIONS).count()
    access = list(events.filter(_access_changes())[:limit])
    post_events = list(events.filter(action__in=GROUPS_BY_KEY["publishing"].codes)[:limit])
    counts = Counter(
        events.filter(action__in=GROUPS_BY_KEY["publishing"].codes).values_list("action", flat=True)
    )
    published, failed = _targets(client, start, end, limit)
    return MonthlyReport(
        client=client,
        month=month.replace(day=1),
        zone=zone,
        start=start,
        end=end,
        connections=_section(connections),
        checks=checks,
        access=_section(access),
        post_events=_section(post_events),
        post_counts=[(_label(code), n) for code, n in sorted(counts.items())],
        published=_section(published),
        failed=_section(failed),
    )


def _label(code: str) -> str:
    try:
        return str(AuditAction(code).label)
    except ValueError:
        return code


def _targets(
    client: Any, start: datetime, end: datetime, limit: int
) -> tuple[list[Any], list[Any]]:
    """Publish targets published, and failed, in the month (read only; publishing owns them)."""
    from apps.publishing.models import PublishTarget, TargetState

    targets = PublishTarget.objects.filter(crosspost__client_id=client.pk).select_related(
        "linked_account", "crosspost"
    )
    published = list(
        targets.filter(
            state=TargetState.PUBLISHED, published_at__gte=start, published_at__lt=end
        ).order_by("published_at")[:limit]
    )
    failed = list(
        targets.filter(
            state__in=[TargetState.FAILED, TargetState.UNCONFIRMED],
            state_changed_at__gte=start,
            state_changed_at__lt=end,
        ).order_by("state_changed_at")[:limit]
    )
    return published, failed
