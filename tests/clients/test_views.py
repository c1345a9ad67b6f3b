from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.clients.models import Client, ClientMembership
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db


def login(client: HttpClient, user) -> HttpClient:
    client.force_login(user)
    return client


def test_it_lists_only_visible_clients(client, staff_member, client_obj):
    ClientFactory(name="Hidden Brand")
    response = login(client, staff_member).get(reverse("clients:list"))
    assert response.status_code == 200
    assert b"Northwind Coffee" in response.content
    assert b"Hidden Brand" not in response.content


def test_it_searches_and_filters(client, admin_user, manager, other_manager):
    ClientFactory(name="Alpha Foods", account_manager=manager)
    ClientFactory(name="Beta Foods", account_manager=other_manager)
    ClientFactory(name="Gamma Archived", status=Client.Status.ARCHIVED)
    login(client, admin_user)
    body = client.get(reverse("clients:list"), {"q": "foods", "manager": manager.pk}).content
    assert b"Alpha Foods" in body and b"Beta Foods" not in body
    body = client.get(reverse("clients:list"), {"status": "archived"}).content
    assert b"Gamma Archived" in body and b"Alpha Foods" not in body


def test_it_paginates(client, admin_user):
    for i in range(30):
        ClientFactory(name=f"Brand {i:02d}")
    login(client, admin_user)
    first = client.get(reverse("clients:list")).content
    second = client.get(reverse("clients:list"), {"page": 2}).content
    assert b"Brand 00" in first and b"Brand 29" not in first
    assert b"Brand 29" in second


def test_pages_show_their_range_team_sizes_and_never_count_every_client(client, admin_user):
    for i in range(30):
        brand = ClientFactory(name=f"Brand {i:02d}")
        for _ in range(i % 3):
            ClientMembership.objects.create(client=brand, user=UserFactory())
    login(client, admin_user)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(reverse("clients:list"), {"page": 2}).content.decode()
    assert not any("COUNT(*)" in q["sql"] and "clients_client" in q["sql"] for q in queries)
    assert "26–30" in second and "Previous" in second and "Next" not in second
    # Brand 29 has 29 % 3 == 2 team members; its row shows them.
    row = second[second.index("Brand 29") :].split("</tr>")[0]
    assert "<td>2</td>" in row
    past_the_end = client.get(reverse("clients:list"), {"page": 9}).content.decode()
    assert "No more clients" in past_the_end and "First page" in past_the_end


@pytest.mark.parametrize("page", ["0", "-3", "abc", ""])
def test_a_nonsense_page_number_shows_the_first_page(client, admin_user, page):
    ClientFactory(name="Alpha Foods")
    body = login(client, admin_user).get(reverse("clients:list"), {"page": page}).content
    assert b"Alpha Foods" in body


def test_it_returns_only_the_results_fragment_to_htmx(client, admin_user, client_obj):
    login(client, admin_user)
    response = client.get(reverse("clients:list"), HTTP_HX_REQUEST="true")
    assert b"Northwind Coffee" in response.content
    assert b"<html" not in response.content


def test_it_shows_an_empty_state(client, admin_user):
    body = login(client, admin_user).get(reverse("clients:list")).content
    assert b"No clients yet" in body


def test_it_creates_a_client(client, admin_user, manager):
    login(client, admin_user)
    response = client.post(
        reverse("clients:create"),
        {"name": "Acme Tea", "timezone": "Asia/Tokyo", "account_manager": manager.pk, "notes": ""},
    )
    client_obj = Client.objects.get(name="Acme Tea")
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:detail", args=[client_obj.slug])
    assert client_obj.account_manager == manager


def test_it_shows_errors_beside_fields_and_saves_nothing(client, admin_user, client_obj):
    login(client, admin_user)
    response = client.post(
        reverse("clients:create"), {"name": "northwind coffee", "timezone": "Nowhere/Else"}
    )
    assert response.status_code == 200
    assert (
        "already exists" in response.content.decode() or "valid choice" in response.content.decode()
    )
    assert "Nowhere/Else is not one of the available choices" in response.content.decode()
    assert Client.objects.count() == 1


def test_it_reports_a_duplicate_name(client, admin_user, client_obj):
    login(client, admin_user)
    response = client.post(
        reverse("clients:create"), {"name": "NORTHWIND COFFEE", "timezone": "UTC"}
    )
    assert "A client with this name already exists." in response.content.decode()
    assert Client.objects.count() == 1


def test_staff_cannot_create_clients(client, staff_member):
    login(client, staff_member)
    assert client.get(reverse("clients:create")).status_code == 404
    assert (
        client.post(reverse("clients:create"), {"name": "X", "timezone": "UTC"}).status_code == 404
    )
    assert not Client.objects.filter(name="X").exists()


def test_a_manager_edits_their_client(client, manager, client_obj):
    login(client, manager)
    response = client.post(
        reverse("clients:edit", args=[client_obj.slug]),
        {"name": "Northwind Coffee Co", "timezone": "America/New_York", "notes": "Oat milk"},
    )
    assert response.status_code == 302
    client_obj.refresh_from_db()
    assert (client_obj.name, client_obj.timezone, client_obj.account_manager) == (
        "Northwind Coffee Co",
        "America/New_York",
        manager,
    )


def test_it_archives_with_post_only(client, manager, client_obj):
    login(client, manager)
    assert client.get(reverse("clients:archive", args=[client_obj.slug])).status_code == 405
    client.post(reverse("clients:archive", args=[client_obj.slug]))
    client_obj.refresh_from_db()
    assert client_obj.is_archived
    client.post(reverse("clients:unarchive", args=[client_obj.slug]))
    client_obj.refresh_from_db()
    assert not client_obj.is_archived


def test_it_refuses_a_post_without_csrf(manager, client_obj):
    csrf_client = HttpClient(enforce_csrf_checks=True)
    csrf_client.force_login(manager)
    response = csrf_client.post(reverse("clients:archive", args=[client_obj.slug]))
    assert response.status_code == 403
    client_obj.refresh_from_db()
    assert not client_obj.is_archived


def test_it_adds_and_removes_team_members(client, manager, staff_member, client_obj):
    newcomer = UserFactory(name="Nia New")
    login(client, manager)
    response = client.post(
        reverse("clients:member_add", args=[client_obj.slug]), {"user": newcomer.pk}
    )
    assert response.status_code == 302
    membership = ClientMembership.objects.get(client=client_obj, user=newcomer)
    client.post(reverse("clients:member_remove", args=[client_obj.slug, membership.pk]))
    assert not ClientMembership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action="client.member_removed").exists()


def test_it_explains_why_a_member_cannot_be_added(client, manager, staff_member, client_obj):
    login(client, manager)
    response = client.post(
        reverse("clients:member_add", args=[client_obj.slug]),
        {"user": staff_member.pk},
        follow=True,
    )
    assert "already on the team" in response.content.decode()


def test_it_refuses_a_membership_of_another_client(client, admin_user, client_obj):
    other = ClientFactory()
    foreign = ClientMembership.objects.create(client=other, user=UserFactory())
    login(client, admin_user)
    response = client.post(reverse("clients:member_remove", args=[client_obj.slug, foreign.pk]))
    assert response.status_code == 404
    assert ClientMembership.objects.filter(pk=foreign.pk).exists()


def test_the_client_page_shows_team_and_timeline(client, staff_member, client_obj):
    body = (
        login(client, staff_member)
        .get(reverse("clients:detail", args=[client_obj.slug]))
        .content.decode()
    )
    assert "Sam Staff" in body and "Max Manager" in body
    assert "Add a team member" not in body  # staff can't edit the team
