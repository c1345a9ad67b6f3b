"""Free text finds events through AuditLabel, which the database keeps complete by itself: every
label of every appended event, however it was appended."""

from __future__ import annotations

import pytest

from apps.audit import search
from apps.audit.actions import AuditAction
from apps.audit.filters import AuditFilter
from apps.audit.models import GENESIS_HASH, AuditEvent, AuditLabel
from apps.audit.services import audit_record

pytestmark = pytest.mark.django_db


def labels() -> set[str]:
    return set(AuditLabel.objects.values_list("text", flat=True))


def test_each_new_events_labels_are_collected_once(admin_user, client_obj):
    audit_record(action=AuditAction.CLIENT_EDITED, actor=admin_user, client=client_obj)
    audit_record(action=AuditAction.CLIENT_EDITED, actor=admin_user, client=client_obj)
    assert labels() == {admin_user.label, "Northwind Coffee"}  # no empty target label


def test_a_bulk_load_is_collected_too():
    """The benchmark (and any import) appends with bulk_create, not audit_record."""
    events = []
    prev = GENESIS_HASH
    for i in range(3):
        event = AuditEvent(
            actor_label="importer", action="client.edited", target_label=f"Row {i}", prev_hash=prev
        )
        event.hash = prev = event.compute_hash()
        events.append(event)
    AuditEvent.objects.bulk_create(events)
    assert labels() == {"importer", "Row 0", "Row 1", "Row 2"}
    found = search.audit_event_ids(scope=AuditEvent.objects.all(), f=AuditFilter(text="row 1"))
    assert found == [AuditEvent.objects.get(target_label="Row 1").pk]


def test_a_term_matching_many_labels_gives_the_same_events(monkeypatch):
    for name in ("Bakery One", "Bakery Two", "Florist"):
        audit_record(action=AuditAction.STAFF_INVITED, target_label=name)
    scope = AuditEvent.objects.all()
    as_list = search.audit_event_ids(scope=scope, f=AuditFilter(text="bakery"))
    monkeypatch.setattr(search, "LABELS_IN_A_LIST", 1)  # two labels match: a subquery now
    as_subquery = search.audit_event_ids(scope=scope, f=AuditFilter(text="bakery"))
    monkeypatch.setattr(search, "WINDOW", 1)  # and found below the window: joined by label
    as_join = search.audit_event_ids(scope=scope, f=AuditFilter(text="bakery"))
    assert as_list == as_subquery == as_join and len(as_list) == 2


def test_a_term_no_label_contains_finds_nothing_without_error(monkeypatch):
    monkeypatch.setattr(search, "WINDOW", 1)  # force the second step as well
    for i in range(3):
        audit_record(action=AuditAction.STAFF_INVITED, target_label=f"person{i}@example.com")
    f = AuditFilter(text="nobody")
    assert search.audit_event_ids(scope=AuditEvent.objects.all(), f=f) == []
