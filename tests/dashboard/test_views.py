"""The dashboard at /: counts of the clients each role can see, and the sign-in wall."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.clients.models import Client
from tests.factories import ClientFactory, MembershipFactory
from tests.staff.helpers import signed_in

pytestmark = pytest.mark.django_db


def test_it_lives_at_the_root_under_its_old_name():
    assert reverse("dashboard") == "/"


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_counts_only_the_clients_a_team_member_can_see(staff_member, client_obj):
    ClientFactory(name="Someone Else's Brand")
    archived = ClientFactory(name="Old Brand", status=Client.Status.ARCHIVED)
    MembershipFactory(client=archived, user=staff_member)

    response = signed_in(staff_member, reauthenticated=False).get("/")

    assert response.status_code == 200
    assert [c.name for c in response.context["my_clients"]] == ["Northwind Coffee"]
    assert response.context["active_count"] == 1
    assert response.context["archived_count"] == 1
    assert "Someone Else" not in response.content.decode()


def test_it_counts_every_client_for_an_admin(admin_user, client_obj):
    ClientFactory(name="Someone Else's Brand")
    ClientFactory(name="Old Brand", status=Client.Status.ARCHIVED)

    response = signed_in(admin_user, reauthenticated=False).get("/")

    assert response.status_code == 200
    assert response.context["my_clients_count"] == 0  # on no team, manages nothing
    assert (response.context["active_count"], response.context["archived_count"]) == (2, 1)
