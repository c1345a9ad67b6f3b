"""Shared fixtures: an admin, a manager, a staff member on the client's team and an outsider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test.utils import override_settings

from apps.clients.models import Client
from apps.staff.models import Role, User
from tests.factories import ClientFactory, MembershipFactory, UserFactory
from tests.scheduling import ordinary_scheduling


@pytest.fixture(autouse=True)
def _ordinary_scheduling() -> None:
    """See tests/scheduling.py: a real-time policy put on the run is undone before each test."""
    ordinary_scheduling()


@pytest.fixture(autouse=True)
def fresh_cache(request: pytest.FixtureRequest, django_db_blocker: Any) -> Iterator[None]:
    """Tests use the database cache (settings: Cache), whose writes roll back with the test. A
    transactional test's (browser, live server) stay, and the flush after it leaves the cache
    table alone: without this, its rate limits and used TOTP codes would reach the next test."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if transactional:
        with django_db_blocker.unblock():
            cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _media_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Files any test stores (uploads, posters) go to a temporary MEDIA_ROOT, never var/media."""
    root = tmp_path_factory.mktemp("media")
    with override_settings(MEDIA_ROOT=root):
        yield root


@pytest.fixture
def admin_user(db: None) -> User:
    return UserFactory(name="Ada Admin", email="ada@agency.example", role=Role.ADMIN)


@pytest.fixture
def manager(db: None) -> User:
    return UserFactory(name="Max Manager", email="max@agency.example", role=Role.MANAGER)


@pytest.fixture
def staff_member(db: None) -> User:
    return UserFactory(name="Sam Staff", email="sam@agency.example", role=Role.STAFF)


@pytest.fixture
def outsider(db: None) -> User:
    """A staff member who is on no team of `client`."""
    return UserFactory(name="Olive Outsider", email="olive@agency.example", role=Role.STAFF)


@pytest.fixture
def other_manager(db: None) -> User:
    """A manager who neither manages `client` nor is on its team."""
    return UserFactory(name="Mia Othermanager", email="mia@agency.example", role=Role.MANAGER)


@pytest.fixture
def client_obj(db: None, manager: User, staff_member: User) -> Client:
    """A client managed by `manager`, with `staff_member` on its team."""
    client = ClientFactory(name="Northwind Coffee", account_manager=manager)
    MembershipFactory(client=client, user=manager)
    MembershipFactory(client=client, user=staff_member)
    return client
