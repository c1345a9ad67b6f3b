from __future__ import annotations

import pytest

from apps.staff.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "is_superuser", "expected"),
    [(Role.ADMIN, False, 302), (Role.MANAGER, False, 302), (Role.ADMIN, True, 200)],
)
def test_only_superusers_reach_the_django_admin(client, role, is_superuser, expected):
    user = UserFactory(role=role, is_staff=True, is_superuser=is_superuser)
    client.force_login(user)
    assert client.get("/admin/").status_code == expected


def test_the_audit_admin_is_read_only(client):
    from apps.audit.actions import AuditAction
    from apps.audit.services import audit_record

    user = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    event = audit_record(action=AuditAction.AUTH_LOGIN, actor=user)
    client.force_login(user)
    assert client.get(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    response = client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"action": "auth.logout"})
    assert response.status_code == 403
