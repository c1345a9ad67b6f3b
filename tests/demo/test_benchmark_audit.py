"""`manage.py benchmark_audit`, tiny: concurrent audited writes (counted, chain intact) and the
export's time and memory."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.audit.actions import AuditAction
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record


@pytest.mark.django_db(transaction=True)  # the writers commit from their own connections
def test_it_counts_audited_writes_and_verifies_what_they_wrote():
    audit_record(action=AuditAction.AUTH_LOGIN, actor_label="before")
    out = StringIO()
    call_command("benchmark_audit", "--writers=1", "--seconds=0.3", stdout=out)
    text = out.getvalue()
    written = AuditEvent.objects.filter(actor_label="bench-writer-0").count()
    assert written > 0
    assert f": {written} events," in text and "events/s" in text
    assert f"chain over the new events: {written} verified, OK" in text


@pytest.mark.django_db
def test_it_streams_the_export_and_reports_its_memory():
    for i in range(30):
        audit_record(action=AuditAction.AUTH_LOGIN, actor_label=f"e{i}")
    out = StringIO()
    call_command("benchmark_audit", "--export-rows=25", stdout=out)
    assert "export of 25 rows" in out.getvalue() and "tracemalloc" in out.getvalue()


def test_it_needs_something_to_measure():
    with pytest.raises(CommandError, match="--writers"):
        call_command("benchmark_audit")
