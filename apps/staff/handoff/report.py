"""A handoff's report in an admin's words: one row per change, then what was found already done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.audit.actions import AuditAction
from apps.audit.models import AuditEvent
from apps.staff.handoff.selectors import HandoffReport

LINK_OUTCOME_WORDS = {
    "completed": "The brand had already used it to connect an account; nothing to revoke.",
    "already_revoked": "Someone had already revoked it.",
    "expired": "It had expired; nothing to revoke.",
}


@dataclass(frozen=True)
class ChangeRow:
    event: AuditEvent
    what: str
    before: str
    after: str
    client_slug: str = ""
    post_id: int | None = None


def _name(label: Any) -> str:
    """A person's name from an audit label ("Name <email>"); the report's header has both."""
    text = str(label or "")
    return (text.split(" <", 1)[0] if text.endswith(">") else text) or "—"


def _before_after(event: AuditEvent, field: str) -> tuple[str, str]:
    change = event.data.get("changes", {}).get(field, {})
    return _name(change.get("before")), _name(change.get("after"))


def _row(report: HandoffReport, event: AuditEvent, slug: str) -> ChangeRow:
    data = event.data
    if event.action == AuditAction.HANDOFF_MANAGER_MOVED:
        before, after = _before_after(event, "account_manager")
        return ChangeRow(event, "Account manager", before, after, slug)
    if event.action == AuditAction.HANDOFF_TEAM_MOVED:
        receiving = _name(report.event.data.get("receiving"))
        after = _name(data.get("joined")) if data.get("joined") else f"{receiving} (already on it)"
        return ChangeRow(event, "Team", _name(data.get("left")), after, slug)
    if event.action == AuditAction.HANDOFF_POST_MOVED:
        before, after = _before_after(event, "created_by")
        post_id = int(event.target_id) if event.target_id.isdigit() else None
        return ChangeRow(event, f"Owner of post {event.target_id}", before, after, slug, post_id)
    if event.action == AuditAction.CONNECT_LINK_REVOKED:
        return ChangeRow(event, event.target_label, "Open", "Revoked", slug)
    if event.action == AuditAction.STAFF_DEACTIVATED:
        ended = int(data.get("sessions_ended", 0))
        sessions = f"{ended} session{'' if ended == 1 else 's'} ended"
        return ChangeRow(event, "Sign-in", "Active", f"Deactivated, {sessions}", slug)
    return ChangeRow(event, event.action_label, "—", "—", slug)


def change_rows(report: HandoffReport, slugs: dict[int, str]) -> list[ChangeRow]:
    """Client by client (in the order they were changed), then what concerns no client."""
    events = sorted(report.changes, key=lambda e: (not e.client_label, e.client_label, e.pk))
    return [_row(report, e, slugs.get(e.client_id or 0, "")) for e in events]


def unchanged_links(report: HandoffReport) -> list[dict[str, Any]]:
    return [
        {**link, "why": LINK_OUTCOME_WORDS.get(link.get("outcome", ""), "")}
        for link in report.event.data.get("links_not_revoked", [])
    ]
