"""A small world of audit events: two clients (Northwind Coffee, managed by `manager` with
`staff_member` on its team, and Elsewhere Ltd, nobody's), an account on each, and one event of
each kind people filter by."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from apps.audit.actions import AuditAction
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.clients.models import Client
from apps.connections.models import LinkedAccount
from tests.factories import ClientFactory, LinkedAccountFactory


@dataclass
class World:
    client: Client
    other: Client
    account: LinkedAccount
    other_account: LinkedAccount
    events: dict[str, AuditEvent]


@pytest.fixture
def world(admin_user, manager, staff_member, client_obj) -> World:
    other = ClientFactory(name="Elsewhere Ltd")
    account = LinkedAccountFactory(client=client_obj, handle="northwind", external_id="nw-1")
    other_account = LinkedAccountFactory(client=other, handle="elsewhere", external_id="el-1")
    events: dict[str, Any] = {}
    events["created"] = audit_record(
        action=AuditAction.CLIENT_CREATED, actor=admin_user, client=client_obj, target=client_obj
    )
    events["member"] = audit_record(
        action=AuditAction.MEMBERSHIP_ADDED,
        actor=manager,
        client=client_obj,
        target=staff_member,
        data={"user": staff_member.label},
    )
    events["connected"] = audit_record(
        action=AuditAction.CONNECTION_CONNECTED,
        actor=staff_member,
        client=client_obj,
        target=account,
        data={"scopes": ["video.publish"], "access_token": "act.must-not-show"},
    )
    events["revoked"] = audit_record(
        action=AuditAction.CONNECTION_REVOKED_ON_PLATFORM,
        actor_label="webhook:tiktok",
        client=client_obj,
        target=account,
        data={"from": "active", "to": "revoked_on_platform", "reason": "Removed in TikTok"},
    )
    events["other_connected"] = audit_record(
        action=AuditAction.CONNECTION_CONNECTED,
        actor=admin_user,
        client=other,
        target=other_account,
    )
    events["invited"] = audit_record(
        action=AuditAction.STAFF_INVITED, actor=admin_user, target_label="new@agency.example"
    )
    events["login"] = audit_record(action=AuditAction.AUTH_LOGIN, actor=manager, target=manager)
    return World(client_obj, other, account, other_account, events)


def shown(response: Any, world: World | None = None) -> list[int]:
    """The ids of the events a log page lists, in order — with `world`, only the world's (signing
    the test client in writes an auth.login event of its own)."""
    assert response.status_code == 200, response.status_code
    listed = [e.pk for e in response.context["events"]]
    if world is None:
        return listed
    mine = {e.pk for e in world.events.values()}
    return [pk for pk in listed if pk in mine]
