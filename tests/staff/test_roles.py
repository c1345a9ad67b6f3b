"""Role-only rules (apps/staff/roles.py): decided by the role alone, for any client."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from apps.staff import roles

pytestmark = pytest.mark.django_db


def test_it_lets_managers_and_admins_create_clients(admin_user, manager, staff_member):
    assert roles.can_create_client(admin_user)
    assert roles.can_create_client(manager)
    assert not roles.can_create_client(staff_member)
    assert not roles.can_create_client(AnonymousUser())


def test_it_shows_the_audit_log_to_managers_and_admins(admin_user, manager, staff_member):
    assert roles.can_view_audit(admin_user)
    assert roles.can_view_audit(manager)
    assert not roles.can_view_audit(staff_member)
    assert not roles.can_view_audit(AnonymousUser())


def test_it_counts_only_active_admins_as_admins(admin_user, manager):
    assert roles.is_admin(admin_user)
    assert not roles.is_admin(manager)
    assert not roles.is_admin(AnonymousUser())
    admin_user.is_active = False
    assert not roles.is_admin(admin_user)
