"""`manage.py benchmark` (scripts/benchmark), at a tiny scale: it seeds, every page it times
answers 200, and it verifies the audit chain it wrote."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.audit.models import AuditEvent
from apps.clients.models import Client
from apps.connections.models import LinkedAccount

pytestmark = pytest.mark.django_db


def test_it_seeds_times_the_pages_and_verifies_the_chain():
    out = StringIO()
    call_command(
        "benchmark",
        "--clients=4",
        "--staff=10",
        "--audit-events=30",
        "--repeat=1",
        stdout=out,
    )
    text = out.getvalue()
    assert Client.objects.count() == 4
    assert LinkedAccount.objects.count() == 8
    assert AuditEvent.objects.count() >= 30  # and the benchmark users' sign-ins
    assert "dashboard (admin)" in text and "account page (staff)" in text
    assert f"verify_audit_chain: {AuditEvent.objects.count()} events" in text
    assert "(OK)" in text


def test_it_refuses_a_database_that_already_has_people(staff_member):
    with pytest.raises(CommandError, match="already has users"):
        call_command("benchmark", "--clients=1", "--staff=5", "--audit-events=1")
