from __future__ import annotations

import pytest
from django.http import Http404

from apps.clients import access
from apps.clients.access import (
    clients_visible_to,
    scope_to_visible_clients,
    visible_client_ids,
)
from apps.clients.models import Client, ClientMembership
from apps.connections.models import LinkedAccount
from tests.factories import ClientFactory, LinkedAccountFactory

pytestmark = pytest.mark.django_db


def test_admins_see_every_client(admin_user, client_obj):
    other = ClientFactory()
    assert set(access.clients_visible_to(admin_user)) == {client_obj, other}


def test_team_members_see_only_their_clients(staff_member, client_obj):
    ClientFactory()
    assert list(access.clients_visible_to(staff_member)) == [client_obj]


def test_managers_see_clients_they_manage_without_being_on_the_team(other_manager):
    managed = ClientFactory(account_manager=other_manager)
    assert list(access.clients_visible_to(other_manager)) == [managed]


def test_outsiders_get_404(outsider, client_obj):
    with pytest.raises(Http404):
        access.get_client_for_view(outsider, client_obj.slug)


def test_team_members_cannot_manage(staff_member, client_obj):
    assert access.get_client_for_view(staff_member, client_obj.slug) == client_obj
    with pytest.raises(Http404):
        access.get_client_for_manage(staff_member, client_obj.slug)


def test_deactivated_users_see_nothing(staff_member, client_obj):
    staff_member.is_active = False
    assert not access.clients_visible_to(staff_member).exists()


def test_a_manager_sees_the_union_of_their_teams_and_the_clients_they_manage(manager):
    on_team = ClientFactory(name="On the team")
    ClientMembership.objects.create(client=on_team, user=manager)
    managed = ClientFactory(name="Managed", account_manager=manager)
    both = ClientFactory(name="Both", account_manager=manager)
    ClientMembership.objects.create(client=both, user=manager)
    ClientFactory(name="Neither")
    assert set(clients_visible_to(manager)) == {on_team, managed, both}


def test_scoping_adds_no_filter_for_an_admin_and_the_persons_own_rows_for_others(
    admin_user, staff_member, client_obj
):
    # An admin's pages read tables without a visibility join (pages stay flat with the agency).
    assert visible_client_ids(admin_user) is None
    admin_sql = str(scope_to_visible_clients(LinkedAccount.objects.order_by(), admin_user).query)
    assert "clients_client" not in admin_sql and "clientmembership" not in admin_sql
    # Others: their memberships, looked up by user (never a scan of every client).
    staff_sql = str(scope_to_visible_clients(LinkedAccount.objects.all(), staff_member).query)
    assert "clients_clientmembership" in staff_sql and '"user_id" =' in staff_sql
    hidden = ClientFactory(name="Hidden")
    LinkedAccountFactory(client=hidden)
    visible = LinkedAccountFactory(client=client_obj)
    assert list(scope_to_visible_clients(LinkedAccount.objects.all(), staff_member)) == [visible]


@pytest.mark.parametrize(
    "role", ["admin_user", "manager", "other_manager", "staff_member", "outsider"]
)
def test_the_listed_scope_sees_exactly_what_the_visible_scope_sees(request, role, client_obj):
    user = request.getfixturevalue(role)
    managed = ClientFactory(
        name="Managed elsewhere", account_manager=request.getfixturevalue("other_manager")
    )
    for brand in (client_obj, managed, ClientFactory(name="Nobody's")):
        LinkedAccountFactory(client=brand)
    accounts = LinkedAccount.objects.order_by("pk")
    assert list(scope_to_visible_clients(accounts, user, listed=True)) == list(
        scope_to_visible_clients(accounts, user)
    )
    clients = Client.objects.order_by("pk")
    assert list(scope_to_visible_clients(clients, user, field="pk", listed=True)) == list(
        clients_visible_to(user).order_by("pk")
    )


def test_the_listed_scope_reads_the_persons_ids_first_and_filters_by_the_list(
    staff_member, client_obj
):
    """So that the database goes by the client index, whatever the agency's size (a subquery
    let PostgreSQL hash every account against it: benchmark, DESIGN §11)."""
    accounts = LinkedAccount.objects.all()
    sql = str(scope_to_visible_clients(accounts, staff_member, listed=True).query)
    assert "clientmembership" not in sql
    assert f'"client_id" IN ({client_obj.pk})' in sql
    staff_member.is_active = False
    assert not scope_to_visible_clients(accounts, staff_member, listed=True).exists()
