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


@pytest.mark.django_db(transaction=True)  # the command empties the database between scales
def test_two_scales_run_one_after_the_other_and_print_the_ratio_per_page():
    out = StringIO()
    call_command(
        "benchmark", "--scale=2:10", "--scale=3:20", "--staff=10", "--repeat=1", stdout=out
    )
    text = out.getvalue()
    # The second scale starts from an empty database: only its own clients remain.
    assert Client.objects.count() == 3
    assert "=== 2 clients" in text and "=== 3 clients" in text
    table = text[text.index("ratio") :]
    for page in ("dashboard (admin)", "clients list (admin)", "health fragment (manager)"):
        row = next(line for line in table.splitlines() if line.startswith(page))
        assert row.count(" ms") == 2 and "x" in row


def test_a_malformed_scale_is_refused_with_the_expected_form():
    with pytest.raises(CommandError, match="CLIENTS:AUDIT_EVENTS"):
        call_command("benchmark", "--scale=lots")
