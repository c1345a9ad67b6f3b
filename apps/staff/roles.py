"""Role-only rules: what a staff member may do by their role alone, whatever the client.

Rules about one client's objects (who sees a client, who manages it) live in
`apps/clients/access.py`; each app's own object lookups build on that.
"""

from __future__ import annotations

from typing import Any

from apps.staff.models import Role


def is_admin(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.is_active and user.is_admin


def can_create_client(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role in (
        Role.MANAGER,
        Role.ADMIN,
    )


def can_manage_clients(user: Any) -> bool:
    """May be a client's account manager (DESIGN §1: managers and admins, never staff)."""
    return bool(getattr(user, "is_authenticated", False)) and user.role in (
        Role.MANAGER,
        Role.ADMIN,
    )


def can_view_audit(user: Any) -> bool:
    """The audit log across clients: admins (all) and managers (their own clients)."""
    return bool(getattr(user, "is_authenticated", False)) and user.role in (
        Role.MANAGER,
        Role.ADMIN,
    )
