"""CSV export of any filter, streamed: rows are written batch by batch as the response is sent,
so memory stays flat whatever the number of events (DESIGN §7)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from apps.audit.filters import AuditFilter
from apps.audit.models import AuditEvent
from apps.audit.search import audit_event_batches
from apps.audit.services import mask_secrets

COLUMNS = (
    ("occurred_at", "occurred_at"),
    ("actor_id", "actor_id"),
    ("actor_label", "actor"),
    ("action", "action"),
    ("client_id", "client_id"),
    ("client_label", "client"),
    ("target_type", "target_type"),
    ("target_id", "target_id"),
    ("target_label", "target"),
    ("data", "data"),
    ("ip", "ip"),
    ("user_agent", "user_agent"),
    ("request_id", "request_id"),
    ("prev_hash", "prev_hash"),
    ("hash", "hash"),
)
# A spreadsheet runs a cell that starts with one of these as a formula; labels are typed by
# people and platforms (a client name, a handle), so such cells are quoted (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """csv.writer writes into this and gets each line back, to yield it."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _row(event_id: int, values: tuple[Any, ...]) -> list[Any]:
    row: list[Any] = [event_id]
    for (field, _), value in zip(COLUMNS, values, strict=True):
        if field == "occurred_at":
            value = timezone.localtime(value).isoformat()
        elif field == "data":
            # Masked when written; masked again here so no stored row can ever unmask.
            value = json.dumps(mask_secrets(value), sort_keys=True, ensure_ascii=False)
        row.append(_cell(value))
    return row


def audit_csv_lines(
    *,
    scope: QuerySet[AuditEvent],
    f: AuditFilter,
    batch_size: int = 2000,
    limit: int | None = None,
) -> Iterator[str]:
    """The CSV text, a header then one chunk per batch of events, newest first (the newest
    `limit` only, when given)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(["id", *(header for _, header in COLUMNS)])
    fields = [field for field, _ in COLUMNS]
    batches = audit_event_batches(
        scope=scope, f=f, fields=fields, batch_size=batch_size, limit=limit
    )
    for batch in batches:
        yield "".join(writer.writerow(_row(row[0], row[1:])) for row in batch)
