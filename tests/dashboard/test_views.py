"""The dashboard at /: counts of the clients each role can see, and the sign-in wall."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.clients.models import Client
from apps.clients.services import client_archive, client_create, client_unarchive
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


def test_an_admins_client_counts_are_kept_and_follow_every_client_service(admin_user, manager):
    """The admin's whole-table counts are kept (apps/clients/tallies.py); each service that
    creates a client or changes its status makes the next dashboard count again."""
    http = signed_in(admin_user, reauthenticated=False)

    def counts() -> tuple[int, int]:
        context = http.get("/").context
        return context["active_count"], context["archived_count"]

    def truth() -> tuple[int, int]:
        return (
            Client.objects.filter(status=Client.Status.ACTIVE).count(),
            Client.objects.filter(status=Client.Status.ARCHIVED).count(),
        )

    ClientFactory(name="Northwind Coffee")
    assert counts() == truth() == (1, 0)
    with CaptureQueriesContext(connection) as kept:
        assert counts() == (1, 0)
    assert not [
        q
        for q in kept.captured_queries
        if 'FROM "clients_client"' in q["sql"] and "GROUP BY" in q["sql"]
    ], "the second page counted every client again"

    brand = client_create(actor=admin_user, name="Harbor Tea", timezone_name="Europe/London")
    assert counts() == truth() == (2, 0)
    client_archive(actor=admin_user, client=brand)
    assert counts() == truth() == (1, 1)
    client_unarchive(actor=admin_user, client=brand)
    assert counts() == truth() == (2, 0)
    client_create(actor=manager, name="Ridge Outfitters", timezone_name="UTC")
    assert counts() == truth() == (3, 0)


def test_others_are_never_served_the_admins_kept_counts(admin_user, staff_member, client_obj):
    ClientFactory(name="Someone Else's Brand")
    assert signed_in(admin_user, reauthenticated=False).get("/").context["active_count"] == 2
    response = signed_in(staff_member, reauthenticated=False).get("/")
    assert response.context["active_count"] == 1
