from __future__ import annotations

import pytest
from django.urls import reverse

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(admin_user, client_obj):
    other = ClientFactory(name="Elsewhere Ltd")
    audit_record(
        action=AuditAction.CLIENT_CREATED, actor=admin_user, client=client_obj, target=client_obj
    )
    audit_record(action=AuditAction.CLIENT_CREATED, actor=admin_user, client=other, target=other)
    audit_record(
        action=AuditAction.STAFF_INVITED, actor=admin_user, target_label="new@agency.example"
    )


def test_admins_see_all_events(client, admin_user, events):
    client.force_login(admin_user)
    body = client.get(reverse("audit:list")).content.decode()
    assert "Elsewhere Ltd" in body and "Northwind Coffee" in body and "new@agency.example" in body


def test_managers_see_only_their_clients_events(client, manager, events):
    client.force_login(manager)
    body = client.get(reverse("audit:list")).content.decode()
    assert "Northwind Coffee" in body
    assert "Elsewhere Ltd" not in body and "new@agency.example" not in body


@pytest.mark.parametrize("role", ["staff_member", "outsider"])
def test_staff_get_404(client, request, role, events):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("audit:list")).status_code == 404


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("audit:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_filters_by_action_and_text(client, admin_user, events):
    client.force_login(admin_user)
    events = client.get(reverse("audit:list"), {"action": "staff.invited"}).context["events"]
    assert [e.target_label for e in events] == ["new@agency.example"]
    events = client.get(reverse("audit:list"), {"q": "elsewhere"}).context["events"]
    assert [e.client_label for e in events] == ["Elsewhere Ltd"]


def test_it_pages_with_older_links(client, admin_user):
    for i in range(55):
        audit_record(action=AuditAction.AUTH_LOGIN, actor=None, actor_label=f"probe-{i:02d}")
    client.force_login(admin_user)
    first = client.get(reverse("audit:list"))
    assert "probe-54" in first.content.decode() and "probe-04" not in first.content.decode()
    older = client.get(
        reverse("audit:list"), {"before": first.context["next_before"]}
    ).content.decode()
    assert "probe-04" in older and "probe-54" not in older
