"""How the audit log finds events: keyed pages, newest first, with no OFFSET and no COUNT over
millions of rows, each filter answered without reading the table end to end (DESIGN §11):

- client, account and person filters walk their (column, id) index newest first and stop after
  one page;
- a date range becomes an id range (`id_bounds`), so it only narrows the walk;
- filters that no index orders by id — free text (labels found through AuditLabel), an action
  or a group of them, a system actor, a manager's set of clients — go in two steps: first the
  newest WINDOW ids are walked (cheap, and enough whenever matches are common); only if that
  window holds less than a page is the rest found through the filters' own indexes, in a
  materialized CTE, so that PostgreSQL cannot turn a rare match into a walk of the whole id
  index (`ORDER BY id DESC LIMIT n` invites that plan when it misjudges how rare the match is).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet

from apps.audit.actions import GROUPS_BY_KEY
from apps.audit.filters import AuditFilter
from apps.audit.models import AuditEvent, AuditLabel

# Ids walked newest first before falling back to the filters' own indexes (about 10 ms of rows).
WINDOW = 20_000
# Matching labels passed as a list (each one an index probe per label column); more, a subquery.
LABELS_IN_A_LIST = 2000
# Writers on several machines stamp `occurred_at` with their own clocks, while ids follow the
# chain's order (appends are serialized by its lock). Two events disagree on their order by at
# most this much — the bound `id_bounds` relies on. NTP keeps real clocks within a second.
CLOCK_SKEW = timedelta(minutes=10)
# The target type of a linked account, as audit_record writes it (`_meta.label_lower`).
ACCOUNT_TARGET = "connections.linkedaccount"


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent]
    next_before: int | None  # pass as `before` for the next (older) page; None at the end


def apply_filter(
    qs: QuerySet[AuditEvent], f: AuditFilter, *, exhaustive: bool = False
) -> QuerySet[AuditEvent]:
    """`qs` narrowed by every filter (the date range's id bounds are added by the callers).
    `exhaustive`: the query will find every match rather than walk a bounded range of ids."""
    if f.client_id:
        qs = qs.filter(client_id=f.client_id)
    if f.account_id:
        qs = qs.filter(target_type=ACCOUNT_TARGET, target_id=str(f.account_id))
    if f.actor:
        user_id = f.actor_user_id
        if user_id is not None:
            qs = qs.filter(actor_id=user_id)
        else:
            qs = qs.filter(actor__isnull=True, actor_label=f.actor)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.group:
        group = GROUPS_BY_KEY.get(f.group)
        qs = qs.filter(action__in=group.codes) if group else qs.none()
    start, end = f.time_range()
    if start:
        qs = qs.filter(occurred_at__gte=start)
    if end:
        qs = qs.filter(occurred_at__lt=end)
    if f.text:
        # When something else narrows the events (a manager's clients, a client, an action, an
        # actor), its index finds the candidates and the text is checked on those alone.
        narrowed = bool(qs.query.where) or bool(f.group or f.action or f.actor)
        qs = qs.filter(_text_match(f.text, exhaustive=exhaustive and not narrowed))
    return qs


def _text_match(text: str, *, exhaustive: bool) -> Q:
    """Events with a label (actor, client or target) containing `text`, in any case.

    The distinct labels are searched first (AuditLabel: thousands of rows, not millions); the
    events are then found by exact label through the label indexes — `label = ANY(list)`, which
    PostgreSQL answers with one bitmap scan per index, however common the letters of the term.
    A term matching more than LABELS_IN_A_LIST labels is common by nature; its labels become a
    subquery: checked row by row when a bounded range of ids is walked, or joined label by label
    through the indexes when every match is wanted (`exhaustive`).
    """
    labels_qs = AuditLabel.objects.filter(text__icontains=text).values_list("text", flat=True)
    labels = list(labels_qs[: LABELS_IN_A_LIST + 1])
    if len(labels) <= LABELS_IN_A_LIST:
        return Q(actor_label__in=labels) | Q(client_label__in=labels) | Q(target_label__in=labels)
    subquery = labels_qs.order_by()
    if not exhaustive:
        return (
            Q(actor_label__in=subquery)
            | Q(client_label__in=subquery)
            | Q(target_label__in=subquery)
        )
    by_label = [
        AuditEvent.objects.filter(**{f"{column}__in": subquery}).order_by().values("id")
        for column in ("actor_label", "client_label", "target_label")
    ]
    return Q(id__in=by_label[0].union(*by_label[1:]))


def _walks_an_index(f: AuditFilter) -> bool:
    """True when one (column, id) index answers the filter newest first by itself: a client,
    an account or a person. (An action code or a system actor is found the two-step way.)"""
    return bool(f.client_id or f.account_id or f.actor_user_id is not None)


def id_bounds(start: datetime | None, end: datetime | None) -> tuple[int, int | None]:
    """The id range [low, high) that holds every event stamped in [start, end).

    Each bound is one step along the occurred_at index. An event stamped before `start -
    CLOCK_SKEW` was appended before any event stamped from `start` on, so the range's ids are
    above its id; likewise below the id of the first event stamped from `end + CLOCK_SKEW`.
    Callers apply the exact time condition as well: the bounds only narrow the walk.
    """
    low, high = 0, None
    if start is not None:
        before = (
            AuditEvent.objects.filter(occurred_at__lt=start - CLOCK_SKEW)
            .order_by("-occurred_at")
            .values_list("id", flat=True)
            .first()
        )
        low = (before or 0) + 1
    if end is not None:
        high = (
            AuditEvent.objects.filter(occurred_at__gte=end + CLOCK_SKEW)
            .order_by("occurred_at")
            .values_list("id", flat=True)
            .first()
        )
    return low, high


def _newest_ids(qs: QuerySet[AuditEvent], limit: int, *, materialize: bool = False) -> list[int]:
    ids = qs.order_by().values_list("id", flat=True)
    if not materialize or connection.vendor != "postgresql":
        return list(ids.order_by("-id")[:limit])
    # The match set is computed in full by the filters' own indexes (no LIMIT to tempt the
    # planner into walking the id index), then sorted; it is small whenever we get here.
    try:
        sql, params = ids.query.sql_with_params()
    except EmptyResultSet:  # e.g. a search no label matches
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH m AS MATERIALIZED ({sql}) SELECT id FROM m ORDER BY id DESC LIMIT %s",  # noqa: S608 - Django's own SQL, parameters bound
            [*params, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def audit_event_ids(
    *, scope: QuerySet[AuditEvent], f: AuditFilter, before_id: int | None = None, limit: int = 50
) -> list[int]:
    """The ids of the newest `limit` events of `scope` matching `f`, below `before_id`."""
    qs = apply_filter(scope, f)
    low, high = id_bounds(*f.time_range())
    bounds = [x for x in (high, before_id) if x is not None]
    top = min(bounds) if bounds else None
    if low > 1:
        qs = qs.filter(id__gte=low)
    if top is not None and top <= low:
        return []
    if _walks_an_index(f):
        return _newest_ids(qs if top is None else qs.filter(id__lt=top), limit)
    if top is None:
        newest = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
        if newest is None:
            return []
        top = newest + 1
    floor = max(low, top - WINDOW)
    found = _newest_ids(qs.filter(id__lt=top, id__gte=floor), limit)
    if len(found) < limit and floor > max(low, 1):
        rest = apply_filter(scope, f, exhaustive=True).filter(id__lt=floor, id__gte=low)
        found += _newest_ids(rest, limit - len(found), materialize=True)
    return found


def audit_event_page(
    *, scope: QuerySet[AuditEvent], f: AuditFilter, before_id: int | None = None, limit: int = 50
) -> EventPage:
    """One page of events, newest first, and the key of the next one."""
    ids = audit_event_ids(scope=scope, f=f, before_id=before_id, limit=limit + 1)
    events = list(AuditEvent.objects.filter(id__in=ids[:limit]).order_by("-id"))
    return EventPage(events, ids[limit - 1] if len(ids) > limit else None)


# Ids walked per query of an export; each query stops after a batch.
EXPORT_WINDOW = 100_000


def audit_event_batches(
    *,
    scope: QuerySet[AuditEvent],
    f: AuditFilter,
    fields: list[str],
    batch_size: int = 2000,
    limit: int | None = None,
) -> Iterator[list[tuple[Any, ...]]]:
    """Every matching event, newest first, as lists of (id, *fields) tuples, `batch_size` at most:
    each query is bounded (one batch along an index, or one window of ids), so an export of
    any size holds one batch in memory at a time."""
    qs = apply_filter(scope, f)
    low, high = id_bounds(*f.time_range())
    low = max(low, 1)
    if high is None:
        newest = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
        high = (newest or 0) + 1
    cursor = high
    indexed = _walks_an_index(f)
    left = limit
    while cursor > low and (left is None or left > 0):
        floor = low if indexed else max(low, cursor - EXPORT_WINDOW)
        size = batch_size if left is None else min(batch_size, left)
        window = qs.filter(id__lt=cursor, id__gte=floor).order_by("-id")
        rows = list(window.values_list("id", *fields)[:size])
        if rows:
            yield rows
            left = None if left is None else left - len(rows)
        # A full batch: the window may hold more below its last id. Otherwise: the next window.
        cursor = rows[-1][0] if len(rows) == size else floor
