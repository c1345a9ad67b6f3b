from __future__ import annotations

import pytest
from django.http import Http404

from apps.clients import access
from tests.factories import ClientFactory

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
