"""CSV export of any filter: its content, its file name, who may export, and that it streams
(one bounded batch at a time, memory flat in the number of rows)."""

from __future__ import annotations

import csv
import io
import tracemalloc

import pytest
from django.urls import reverse

from apps.audit import search
from apps.audit.actions import AuditAction
from apps.audit.export import audit_csv_lines
from apps.audit.filters import AuditFilter
from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.services import audit_record
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

EXPORT = reverse("audit:export")


def signed_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


def rows_of(response):
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_it_exports_the_filter_newest_first(client, manager, world):
    signed_in(client, manager)
    rows = rows_of(client.get(EXPORT, {"group": "connections"}))
    assert [int(r["id"]) for r in rows] == [
        world.events["revoked"].pk,
        world.events["connected"].pk,
    ]
    revoked = rows[0]
    assert revoked["action"] == "connection.revoked_on_platform"
    assert revoked["actor"] == "webhook:tiktok" and revoked["actor_id"] == ""
    assert revoked["client"] == "Northwind Coffee"
    assert revoked["target"] == "TikTok @northwind"
    assert revoked["hash"] == world.events["revoked"].hash
    assert '"reason": "Removed in TikTok"' in revoked["data"]
    assert "act.must-not-show" not in rows[1]["data"] and "[redacted]" in rows[1]["data"]


def test_a_managers_export_holds_only_their_clients(client, manager, world):
    signed_in(client, manager)
    exported = {int(r["id"]) for r in rows_of(client.get(EXPORT))}
    mine = {world.events[n].pk for n in ("created", "member", "connected", "revoked")}
    assert exported == mine  # (the export's own audit event came after the export began)


def test_the_file_is_named_after_the_filter(client, admin_user, world):
    signed_in(client, admin_user)
    response = client.get(
        EXPORT,
        {
            "client": world.client.pk,
            "group": "connections",
            "from": "2026-11-01",
            "to": "2026-11-30",
        },
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="audit-northwind-coffee-connections-2026-11-01_2026-11-30.csv"'
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    response = client.get(EXPORT, {"account": world.account.pk, "q": "North wind!"})
    assert (
        'filename="audit-tiktok-northwind-search-north-wind.csv"' in response["Content-Disposition"]
    )
    assert 'filename="audit-all.csv"' in client.get(EXPORT)["Content-Disposition"]


def test_an_export_is_itself_audited(client, admin_user, world):
    signed_in(client, admin_user)
    rows_of(client.get(EXPORT, {"client": world.client.pk, "group": "connections"}))
    event = AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORTED).get()
    assert event.actor_id == admin_user.pk and event.client_id == world.client.pk
    assert event.data == {"filter": {"client": str(world.client.pk), "group": "connections"}}
    assert event.target_label == "audit-northwind-coffee-connections.csv"


def test_spreadsheet_formulas_in_labels_are_defused(client, admin_user):
    audit_record(action=AuditAction.STAFF_INVITED, target_label='=HYPERLINK("http://evil")')
    signed_in(client, admin_user)
    (row,) = rows_of(client.get(EXPORT, {"group": "staff"}))
    assert row["target"] == '\'=HYPERLINK("http://evil")'


def test_export_needs_a_recent_password(client, manager, world):
    client.force_login(manager, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(EXPORT)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert not AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORTED).exists()


@pytest.mark.parametrize("role", ["staff_member", "outsider"])
def test_staff_cannot_export(client, request, role, world):
    signed_in(client, request.getfixturevalue(role))
    assert client.get(EXPORT, {"client": world.client.pk}).status_code == 404


def test_an_invalid_filter_exports_nothing(client, admin_user, world):
    signed_in(client, admin_user)
    response = client.get(EXPORT, {"q": "ab", "group": "connections"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('audit:list')}?q=ab&group=connections"


def _bulk_events(n: int) -> None:
    """n chained events, written in bulk (the benchmark's way)."""
    prev = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS_HASH
    batch = []
    for i in range(n):
        event = AuditEvent(
            actor_label=f"bulk {i}",
            action="client.edited",
            client_label="Bulk Brand",
            target_label="Bulk Brand",
            data={"changes": {"notes": {"before": "", "after": "x" * 200}}},
            prev_hash=prev,
        )
        event.hash = prev = event.compute_hash()
        batch.append(event)
    AuditEvent.objects.bulk_create(batch, batch_size=1000)


def test_it_streams_in_bounded_batches(django_assert_num_queries, django_assert_max_num_queries):
    """The response body is a generator: nothing is read before it is consumed, and each chunk
    comes from one bounded query (two for the first: it asks for the newest id)."""
    _bulk_events(1200)
    with django_assert_num_queries(0):
        lines = audit_csv_lines(scope=AuditEvent.objects.all(), f=AuditFilter(), batch_size=500)
        header = next(lines)
    assert header.startswith("id,occurred_at,actor_id,actor")
    chunks = []
    while True:
        with django_assert_max_num_queries(2 if not chunks else 1):
            chunk = next(lines, None)
        if chunk is None:
            break
        chunks.append(chunk)
    assert [c.count("\r\n") for c in chunks] == [500, 500, 200]


def test_each_batch_is_one_query(django_assert_num_queries):
    _bulk_events(1200)
    batches = search.audit_event_batches(
        scope=AuditEvent.objects.all(), f=AuditFilter(), fields=["action"], batch_size=500
    )
    with django_assert_num_queries(2):  # the newest id, then the first batch
        assert len(next(batches)) == 500
    with django_assert_num_queries(1):
        assert len(next(batches)) == 500


def _peak_while_exporting(n_rows: int) -> int:
    tracemalloc.start()
    try:
        lines = audit_csv_lines(scope=AuditEvent.objects.all(), f=AuditFilter(), batch_size=500)
        written = sum(line.count("\r\n") for line in lines)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == n_rows + 1  # the header, then every row
    return peak


def test_memory_does_not_grow_with_the_number_of_rows():
    _bulk_events(1000)
    small = _peak_while_exporting(1000)
    _bulk_events(5000)
    large = _peak_while_exporting(6000)
    # Six times the rows, about the same peak (one batch of 500 held at a time).
    assert large < small * 1.5, (small, large)


def test_limit_exports_the_newest_events_only(client, admin_user, world):
    signed_in(client, admin_user)
    response = client.get(EXPORT, {"group": "connections", "limit": 2})
    assert [int(r["id"]) for r in rows_of(response)] == [
        world.events["other_connected"].pk,
        world.events["revoked"].pk,
    ]
    assert 'filename="audit-connections-newest-2.csv"' in response["Content-Disposition"]
