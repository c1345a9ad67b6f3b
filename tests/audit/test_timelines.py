"""A client's and an account's timeline: the log scoped by the URL, readable by whoever may see
the client (its team too, DESIGN §1), linked from the client and account pages; and an account's
revocation history."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from apps.audit.actions import AuditAction
from apps.audit.selectors import account_revocation_history
from apps.audit.services import audit_record
from apps.connections.lifecycle import account_transition
from apps.connections.models import State
from tests.audit.conftest import shown
from tests.factories import LinkedAccountFactory

pytestmark = pytest.mark.django_db


def ids(world, *names):
    return [world.events[n].pk for n in names]


@pytest.mark.parametrize("role", ["admin_user", "manager", "staff_member"])
def test_the_clients_team_reads_its_timeline(client, request, role, world):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("audit:client", args=[world.client.slug]))
    assert shown(response, world) == ids(world, "revoked", "connected", "member", "created")
    body = response.content.decode()
    assert "Timeline of Northwind Coffee" in body
    # Filters work inside the timeline; the client cannot be swapped by the query string.
    response = client.get(
        reverse("audit:client", args=[world.client.slug]),
        {"group": "connections", "client": world.other.pk},
    )
    assert shown(response, world) == ids(world, "revoked", "connected")


@pytest.mark.parametrize("role", ["outsider", "other_manager"])
def test_others_get_404_for_a_timeline(client, request, role, world):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("audit:client", args=[world.client.slug])).status_code == 404
    assert client.get(reverse("audit:account", args=[world.account.pk])).status_code == 404


def test_only_managers_and_admins_get_the_export_link(client, manager, staff_member, world):
    url = reverse("audit:client", args=[world.client.slug])
    client.force_login(staff_member)
    assert reverse("audit:export") not in client.get(url).content.decode()
    client.force_login(manager)
    body = client.get(url, {"group": "connections"}).content.decode()
    assert f"{reverse('audit:export')}?client={world.client.pk}&amp;group=connections" in body


@pytest.mark.parametrize("role", ["admin_user", "manager", "staff_member"])
def test_an_accounts_timeline_shows_its_events_only(client, request, role, world):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("audit:account", args=[world.account.pk]))
    assert shown(response, world) == ids(world, "revoked", "connected")
    body = response.content.decode()
    assert "History of TikTok @northwind" in body
    assert "Removed in TikTok" in body  # the revocation section's reason


def test_the_timeline_reads_like_a_sentence(client, manager, world):
    client.force_login(manager)
    body = client.get(reverse("audit:account", args=[world.account.pk])).content.decode()
    # Who, what, when, from where, before/after — and never the token.
    assert "Revoked on the platform" in body and "webhook:tiktok" in body
    assert "active" in body and "revoked_on_platform" in body
    assert "act.must-not-show" not in body


def test_the_client_and_account_pages_link_to_their_timelines(client, staff_member, world):
    client.force_login(staff_member)
    client_page = client.get(reverse("clients:detail", args=[world.client.slug])).content.decode()
    assert reverse("audit:client", args=[world.client.slug]) in client_page
    assert reverse("audit:event", args=[world.events["revoked"].pk]) in client_page
    account_page = client.get(reverse("connections:account", args=[world.account.pk]))
    assert reverse("audit:account", args=[world.account.pk]) in account_page.content.decode()


# --- Revocation history ------------------------------------------------------------------------


def _revoke_on_platform(account):
    account_transition(
        account=account,
        to=State.REVOKED_ON_PLATFORM,
        reason="The user removed the app in TikTok.",
        actor_label="webhook:tiktok",
    )


def _disconnect_here(account, user, *, platform_side_done):
    account_transition(
        account=account, to=State.DISCONNECT_PENDING, reason="Disconnected.", actor=user
    )
    account_transition(
        account=account,
        to=State.DISCONNECTED,
        reason="Both sides done." if platform_side_done else "Platform unreachable.",
        actor_label="system",
        data={"platform_side_done": platform_side_done},
    )


def test_revocation_by_the_brand_only(client_obj):
    account = LinkedAccountFactory(client=client_obj)
    _revoke_on_platform(account)
    history = account_revocation_history(account=account)
    assert history.removed_on_platform.actor_label == "webhook:tiktok"
    assert history.disconnect_requested is None
    assert history.verdict.startswith("The brand removed the app on the platform; nobody here")


def test_revocation_here_only(client_obj, manager):
    account = LinkedAccountFactory(client=client_obj)
    _disconnect_here(account, manager, platform_side_done=True)
    history = account_revocation_history(account=account)
    assert history.removed_on_platform is None
    assert history.disconnect_requested.actor_id == manager.pk
    assert history.disconnected is not None and history.platform_side_done is True
    assert history.verdict.startswith("Someone here disconnected it")


def test_revocation_on_both_sides_says_who_was_first(client, client_obj, manager):
    account = LinkedAccountFactory(client=client_obj)
    _revoke_on_platform(account)
    _disconnect_here(account, manager, platform_side_done=False)
    history = account_revocation_history(account=account)
    assert history.verdict == (
        "Both: the brand removed the app on the platform and someone here disconnected it "
        "(the brand first)."
    )
    assert history.platform_side_done is False
    client.force_login(manager)
    body = client.get(reverse("audit:account", args=[account.pk])).content.decode()
    assert "Removed on TikTok" in body and "Disconnected here" in body
    assert "the platform side could not be confirmed" in body
    assert f"by {escape(manager.label)}" in body


def test_no_revocation(client_obj):
    account = LinkedAccountFactory(client=client_obj)
    audit_record(
        action=AuditAction.CONNECTION_CONNECTED, client=client_obj, target=account, actor=None
    )
    history = account_revocation_history(account=account)
    assert history.events == []
    assert history.verdict.startswith("Neither")
