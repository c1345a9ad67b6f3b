"""One event's page: every field, where it came from, its before/after values (secrets masked,
even in a row written without audit_record) and its place in the chain."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from apps.audit.actions import AuditAction
from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.services import audit_record
from apps.common.logging import RequestMeta, request_meta_var
from tests.audit.test_chain import _tamper

pytestmark = pytest.mark.django_db


def url(event):
    return reverse("audit:event", args=[event.pk])


def test_it_shows_every_field_a_reviewer_needs(client, manager, world):
    token = request_meta_var.set(
        RequestMeta(request_id="req-4242", ip="203.0.113.9", user_agent="Firefox/140.0")
    )
    try:
        event = audit_record(
            action=AuditAction.CLIENT_EDITED,
            actor=manager,
            client=world.client,
            target=world.client,
            data={"changes": {"notes": {"before": "old note", "after": "new note"}}},
        )
    finally:
        request_meta_var.reset(token)
    client.force_login(manager)
    body = client.get(url(event)).content.decode()
    for text in (
        "Client edited",
        "client.edited",
        escape(manager.label),
        "Northwind Coffee",
        "203.0.113.9",
        "Firefox/140.0",
        "req-4242",
        "old note",
        "new note",
        event.hash,
        event.prev_hash,
        "Link verifies",
    ):
        assert text in body, text


def test_state_changes_read_as_before_and_after(client, manager, world):
    client.force_login(manager)
    response = client.get(url(world.events["revoked"]))
    (change,) = response.context["changes"].changes
    assert (change.field, change.before, change.after) == ("State", "active", "revoked_on_platform")
    assert ("Reason", "Removed in TikTok") in response.context["changes"].details


def test_display_masks_secrets_even_in_a_row_written_by_hand(client, admin_user):
    """audit_record masks when it writes; the page masks again, so an older or forged row can
    never put a token on screen."""
    event = AuditEvent(
        actor_label="legacy import",
        action=AuditAction.CONNECTION_CONNECTED,
        data={"refresh_token": "rft.LEAK", "nested": {"client_secret": "s3cr3t"}, "ok": "fine"},
        prev_hash=AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        or GENESIS_HASH,
    )
    event.hash = event.compute_hash()
    event.save(force_insert=True)
    client.force_login(admin_user)
    body = client.get(url(event)).content.decode()
    assert "rft.LEAK" not in body and "s3cr3t" not in body
    assert "[redacted]" in body and "fine" in body


def test_a_tampered_event_says_its_link_is_broken(client, admin_user, world):
    event = world.events["member"]
    _tamper(event.pk, target_label="Someone Else")
    client.force_login(admin_user)
    body = client.get(url(event)).content.decode()
    assert "Link broken" in body and "does not match its hash" in body
    # Its neighbours still link to it, by hash.
    after = client.get(url(world.events["connected"])).content.decode()
    assert "Link verifies" in after


def test_a_removed_link_is_named(client, admin_user, world):
    _tamper(world.events["connected"].pk, prev_hash="f" * 64)
    client.force_login(admin_user)
    body = client.get(url(world.events["connected"])).content.decode()
    assert "does not match the event before" in body


def test_neighbours_ids_are_shown_to_admins_only(client, admin_user, manager, world):
    event = world.events["member"]
    previous = world.events["created"]
    client.force_login(admin_user)
    assert url(previous) in client.get(url(event)).content.decode()
    client.force_login(manager)
    body = client.get(url(event)).content.decode()
    assert url(previous) not in body and "points at the event before" in body


@pytest.mark.parametrize(
    ("role", "event_name", "status"),
    [
        ("admin_user", "invited", 200),  # no client: admins only
        ("manager", "invited", 404),
        ("manager", "other_connected", 404),
        ("manager", "member", 200),
        ("staff_member", "member", 200),  # the team reads its client's trail (DESIGN §1)
        ("staff_member", "login", 404),
        ("outsider", "member", 404),
        ("other_manager", "member", 404),
    ],
)
def test_who_may_open_an_event(client, request, world, role, event_name, status):
    client.force_login(request.getfixturevalue(role))
    assert client.get(url(world.events[event_name])).status_code == status


def test_only_a_completed_handoff_links_to_its_report_and_only_for_admins(
    client, admin_user, manager, world
):
    handoff = audit_record(
        action=AuditAction.HANDOFF_COMPLETED,
        actor=admin_user,
        client=world.client,
        target=manager,
        data={"handoff_id": "h-1"},
    )
    report = reverse("staff:handoff_report", args=[handoff.pk])
    client.force_login(admin_user)
    assert report in client.get(url(handoff)).content.decode()
    other = world.events["revoked"]
    assert "Handoff report" not in client.get(url(other)).content.decode()

    client.force_login(manager)  # may see the event (their client), not the report
    response = client.get(url(handoff))
    assert response.status_code == 200 and report not in response.content.decode()
