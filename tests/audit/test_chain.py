from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from apps.audit.actions import AuditAction
from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.selectors import audit_chain_verify
from apps.audit.services import audit_record

pytestmark = pytest.mark.django_db


def _three_events(actor, client):
    return [
        audit_record(action=AuditAction.CLIENT_CREATED, actor=actor, client=client, target=client),
        audit_record(
            action=AuditAction.CLIENT_EDITED,
            actor=actor,
            client=client,
            target=client,
            data={"changes": {"notes": {"before": "", "after": "x"}}},
        ),
        audit_record(
            action=AuditAction.CLIENT_ARCHIVED, actor=None, actor_label="system", client=client
        ),
    ]


def test_it_chains_each_event_to_the_previous(admin_user, client_obj):
    first, second, third = _three_events(admin_user, client_obj)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert all(e.hash == e.compute_hash() for e in AuditEvent.objects.all())


def test_it_snapshots_labels(admin_user, client_obj):
    event = audit_record(
        action=AuditAction.CLIENT_CREATED, actor=admin_user, client=client_obj, target=client_obj
    )
    client_obj.name = "Renamed"
    client_obj.save()
    event.refresh_from_db()
    assert event.client_label == "Northwind Coffee"
    assert event.actor_label == "Ada Admin <ada@agency.example>"


def test_it_masks_secrets_in_data(admin_user):
    event = audit_record(
        action=AuditAction.CLIENT_EDITED,
        actor=admin_user,
        data={"access_token": "act.secret", "nested": {"refresh_token": "rft.x", "ok": 1}},
    )
    assert event.data == {
        "access_token": "[redacted]",
        "nested": {"refresh_token": "[redacted]", "ok": 1},
    }


def test_it_refuses_updates_and_deletes_in_code(admin_user):
    event = audit_record(action=AuditAction.AUTH_LOGIN, actor=admin_user)
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="auth.logout")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only"
)
def test_the_database_refuses_update_and_delete_on_postgresql(admin_user):
    audit_record(action=AuditAction.AUTH_LOGIN, actor=admin_user)
    for sql in ("UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert AuditEvent.objects.count() == 1


def _tamper(event_id: int, **changes) -> None:
    """Bypass every guard, as an attacker with database access would (trigger dropped first)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        sets = ", ".join(f"{k} = %s" for k in changes)
        cursor.execute(
            f"UPDATE audit_auditevent SET {sets} WHERE id = %s", [*changes.values(), event_id]
        )
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def test_verify_reports_ok_for_an_intact_chain(admin_user, client_obj, capsys):
    _three_events(admin_user, client_obj)
    assert audit_chain_verify().ok
    call_command("verify_audit_chain")
    assert "OK (3 events verified)" in capsys.readouterr().out


def test_verify_names_the_first_event_whose_content_changed(admin_user, client_obj):
    _first, second, _third = _three_events(admin_user, client_obj)
    _tamper(second.pk, actor_label="Somebody Else")
    result = audit_chain_verify()
    assert (result.ok, result.broken_id, result.checked) == (False, second.pk, 1)
    with pytest.raises(CommandError, match=f"BROKEN at event {second.pk}"):
        call_command("verify_audit_chain")


def test_verify_detects_a_removed_link(admin_user, client_obj):
    *_, third = _three_events(admin_user, client_obj)
    _tamper(third.pk, prev_hash="f" * 64)
    result = audit_chain_verify(batch_size=1)
    assert (result.ok, result.broken_id) == (False, third.pk)


def test_verify_exits_non_zero_from_the_shell(admin_user, client_obj):
    _first, second, _third = _three_events(admin_user, client_obj)
    _tamper(second.pk, target_label="forged")
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit_chain")
    assert exc.value.returncode == 1
