"""Reads of the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from apps.audit.models import GENESIS_HASH, AuditEvent


@dataclass(frozen=True)
class ChainResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def audit_chain_verify(*, batch_size: int = 5000) -> ChainResult:
    """Walk the chain in id order and report the first event whose link or content is wrong."""
    expected_prev = GENESIS_HASH
    checked = 0
    for event in _iter_events(batch_size):
        if event.prev_hash != expected_prev:
            return ChainResult(False, checked, event.id, "prev_hash does not match the event before")
        if event.compute_hash() != event.hash:
            return ChainResult(False, checked, event.id, "content does not match its hash")
        expected_prev = event.hash
        checked += 1
    return ChainResult(True, checked)


def _iter_events(batch_size: int) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id
