"""Connections' object access (apps/connections/access.py), on top of the clients' rules."""

from __future__ import annotations

import pytest
from django.http import Http404

from apps.connections import access
from tests.factories import ClientFactory, LinkedAccountFactory

pytestmark = pytest.mark.django_db


def test_it_shows_an_account_to_whoever_sees_its_client(
    admin_user, manager, staff_member, client_obj
):
    account = LinkedAccountFactory(client=client_obj)
    for user in (admin_user, manager, staff_member):
        assert access.get_account_for_view(user, account.pk) == account


def test_it_answers_404_for_an_account_of_a_client_out_of_sight(
    outsider, other_manager, client_obj
):
    account = LinkedAccountFactory(client=client_obj)
    for user in (outsider, other_manager):
        with pytest.raises(Http404):
            access.get_account_for_view(user, account.pk)


def test_it_answers_404_for_an_account_that_does_not_exist(admin_user):
    with pytest.raises(Http404):
        access.get_account_for_view(admin_user, 999_999)


def test_it_lets_only_the_clients_manager_and_admins_send_connect_links(
    admin_user, manager, staff_member, other_manager, client_obj
):
    assert access.can_send_connect_links(admin_user, client_obj)
    assert access.can_send_connect_links(manager, client_obj)
    assert not access.can_send_connect_links(staff_member, client_obj)
    assert not access.can_send_connect_links(other_manager, client_obj)
    assert access.can_send_connect_links(
        other_manager, ClientFactory(account_manager=other_manager)
    )
