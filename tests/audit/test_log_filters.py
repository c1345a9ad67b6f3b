"""The audit log's filters, per role: client, account, actor, kind (action group), action, date
range in the agency's time zone, and free text over the labels; keyed pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from apps.audit import search
from apps.audit.actions import AuditAction
from apps.audit.filters import AuditFilter
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from tests.audit.conftest import shown

pytestmark = pytest.mark.django_db

LOG = reverse("audit:list")


def ids(world, *names):
    return [world.events[n].pk for n in names]


def test_admins_see_every_event_newest_first(client, admin_user, world):
    client.force_login(admin_user)
    assert shown(client.get(LOG), world) == sorted(
        (e.pk for e in world.events.values()), reverse=True
    )


def test_managers_see_only_their_clients_events(client, manager, world):
    client.force_login(manager)
    assert shown(client.get(LOG), world) == ids(world, "revoked", "connected", "member", "created")
    # Asking for another client's events gives nothing, not an error.
    assert shown(client.get(LOG, {"client": world.other.pk}), world) == []


@pytest.mark.parametrize("role", ["staff_member", "outsider"])
def test_staff_cannot_open_the_log_across_clients(client, request, role, world):
    client.force_login(request.getfixturevalue(role))
    assert client.get(LOG).status_code == 404
    assert client.get(LOG, {"client": world.client.pk}).status_code == 404


def test_it_filters_by_client(client, admin_user, world):
    client.force_login(admin_user)
    assert shown(client.get(LOG, {"client": world.other.pk}), world) == ids(
        world, "other_connected"
    )


def test_it_filters_by_account_and_offers_the_clients_accounts(client, manager, world):
    client.force_login(manager)
    response = client.get(LOG, {"client": world.client.pk})
    assert [a.pk for a in response.context["accounts"]] == [world.account.pk]
    response = client.get(LOG, {"client": world.client.pk, "account": world.account.pk})
    assert shown(response, world) == ids(world, "revoked", "connected")
    # Another client's account, through a manager's scope: nothing.
    assert shown(client.get(LOG, {"account": world.other_account.pk}), world) == []


def test_it_filters_by_a_person(client, admin_user, manager, world):
    client.force_login(admin_user)
    assert shown(client.get(LOG, {"actor": f"user:{manager.pk}"}), world) == ids(
        world, "login", "member"
    )
    client.force_login(manager)
    assert shown(client.get(LOG, {"actor": f"user:{manager.pk}"}), world) == ids(world, "member")


def test_it_filters_by_a_system_actor(client, admin_user, world):
    client.force_login(admin_user)
    assert shown(client.get(LOG, {"actor": "webhook:tiktok"}), world) == ids(world, "revoked")
    assert shown(client.get(LOG, {"actor": "system"}), world) == []


def test_it_filters_by_kind_per_role(client, admin_user, manager, world):
    client.force_login(admin_user)
    expected = ids(world, "other_connected", "revoked", "connected")
    assert shown(client.get(LOG, {"group": "connections"}), world) == expected
    assert shown(client.get(LOG, {"group": "sign_in"}), world) == ids(world, "login")
    assert shown(client.get(LOG, {"group": "staff"}), world) == ids(world, "invited")
    client.force_login(manager)
    assert shown(client.get(LOG, {"group": "connections"}), world) == ids(
        world, "revoked", "connected"
    )
    assert shown(client.get(LOG, {"group": "sign_in"}), world) == []


def test_it_filters_by_one_action(client, admin_user, world):
    client.force_login(admin_user)
    response = client.get(LOG, {"action": "connection.connected"})
    assert shown(response, world) == ids(world, "other_connected", "connected")


def test_it_searches_the_labels_without_minding_case(client, admin_user, manager, world):
    client.force_login(admin_user)
    assert shown(client.get(LOG, {"q": "ELSEWHERE"}), world) == ids(world, "other_connected")
    assert shown(client.get(LOG, {"q": "new@agency"}), world) == ids(world, "invited")
    # Actor labels too: "Max Manager <max@agency.example>".
    assert shown(client.get(LOG, {"q": "max manager"}), world) == ids(world, "login", "member")
    client.force_login(manager)
    assert shown(client.get(LOG, {"q": "elsewhere"}), world) == []


def test_search_wildcards_are_taken_literally(client, admin_user):
    percent = audit_record(action=AuditAction.STAFF_INVITED, target_label="50% off@example.com")
    audit_record(action=AuditAction.STAFF_INVITED, target_label="500 offers@example.com")
    underscore = audit_record(action=AuditAction.STAFF_INVITED, target_label="a_b@example.com")
    audit_record(action=AuditAction.STAFF_INVITED, target_label="axb@example.com")
    client.force_login(admin_user)
    assert shown(client.get(LOG, {"q": "50% off"})) == [percent.pk]
    assert shown(client.get(LOG, {"q": "a_b@"})) == [underscore.pk]


def test_a_search_shorter_than_three_characters_is_refused_with_a_reason(client, admin_user, world):
    client.force_login(admin_user)
    response = client.get(LOG, {"q": "ma"})
    assert "Type at least 3 characters" in response.content.decode()
    assert len(shown(response, world)) == len(world.events)  # the rest of the filter still applies


def test_filters_combine(client, admin_user, world, staff_member):
    client.force_login(admin_user)
    response = client.get(
        LOG, {"group": "connections", "actor": f"user:{staff_member.pk}", "q": "northwind"}
    )
    assert shown(response, world) == ids(world, "connected")


def test_unknown_values_are_refused_not_guessed(client, admin_user, world):
    client.force_login(admin_user)
    response = client.get(LOG, {"actor": "somebody", "group": "nope", "to": "2026-13-40"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"actor", "group", "date_to"}
    assert len(shown(response, world)) == len(world.events)


def _at(when: str, **kwargs) -> AuditEvent:
    with time_machine.travel(datetime.fromisoformat(when), tick=False):
        return audit_record(action=AuditAction.AUTH_LOGIN, actor_label="system", **kwargs)


def test_date_ranges_are_days_in_the_agencys_time_zone(client, admin_user, settings):
    late_evening_in_new_york = _at("2026-03-10T03:30:00+00:00")  # 9 March, 23:30 in New York
    just_after_midnight = _at("2026-03-10T04:30:00+00:00")  # 10 March, 00:30 in New York
    client.force_login(admin_user)
    day = {"from": "2026-03-10", "to": "2026-03-10"}
    settings.TIME_ZONE = "UTC"
    assert shown(client.get(LOG, day)) == [just_after_midnight.pk, late_evening_in_new_york.pk]
    settings.TIME_ZONE = "America/New_York"
    assert shown(client.get(LOG, day)) == [just_after_midnight.pk]
    assert shown(client.get(LOG, {"to": "2026-03-09"})) == [late_evening_in_new_york.pk]
    assert "America/New_York" in client.get(LOG, day).content.decode()


def test_a_date_range_keeps_events_whose_clocks_disagreed_a_little():
    """Writers' clocks may differ by minutes: an event appended later can carry an earlier time.
    The id range a date range becomes must still hold every event stamped inside it."""
    _at("2026-03-01T12:00:00+00:00")
    first_in_range = _at("2026-03-10T00:02:00+00:00")
    _at("2026-03-09T23:59:00+00:00")  # appended after, stamped before (a slow clock)
    earliest_stamp_in_range = _at("2026-03-10T00:01:00+00:00")
    _at("2026-03-20T12:00:00+00:00")
    f = AuditFilter(date_from=datetime(2026, 3, 10).date(), date_to=datetime(2026, 3, 10).date())
    found = search.audit_event_ids(scope=AuditEvent.objects.all(), f=f)
    assert found == [earliest_stamp_in_range.pk, first_in_range.pk]


def test_date_bounds_are_found_along_the_time_index():
    old = _at("2026-01-01T12:00:00+00:00")
    middle = _at("2026-02-01T12:00:00+00:00")
    new = _at("2026-03-01T12:00:00+00:00")
    start = datetime(2026, 1, 20, tzinfo=UTC)
    end = datetime(2026, 2, 10, tzinfo=UTC)
    assert search.id_bounds(start, end) == (old.pk + 1, new.pk)
    assert search.id_bounds(None, None) == (0, None)
    assert middle.pk in range(old.pk + 1, new.pk)


def test_pages_are_keyed_by_id(client, admin_user):
    client.force_login(admin_user)  # (itself an auth.login event, older than the probes)
    for i in range(55):
        audit_record(action=AuditAction.AUTH_LOGIN, actor_label=f"probe-{i:02d}")
    first = client.get(LOG, {"group": "sign_in"})
    assert len(first.context["events"]) == 50
    body = first.content.decode()
    assert "probe-54" in body and "probe-04" not in body
    assert f"group=sign_in&amp;before={first.context['next_before']}" in body
    older = client.get(LOG, {"group": "sign_in", "before": first.context["next_before"]})
    assert [e.actor_label for e in older.context["events"]] == [
        *(f"probe-{i:02d}" for i in range(4, -1, -1)),
        admin_user.label,
    ]
    assert older.context["next_before"] is None


def test_a_rare_match_below_the_newest_window_is_still_found(monkeypatch, admin_user):
    """The two-step search: the newest WINDOW ids first, then the rest through the indexes."""
    monkeypatch.setattr(search, "WINDOW", 10)
    rare = [
        audit_record(action=AuditAction.STAFF_INVITED, target_label=f"rare-{i}") for i in range(3)
    ]
    for i in range(40):
        audit_record(action=AuditAction.AUTH_LOGIN, actor_label=f"common-{i}")
    scope = AuditEvent.objects.all()
    for f in (AuditFilter(group="staff"), AuditFilter(text="rare-")):
        assert search.audit_event_ids(scope=scope, f=f) == [e.pk for e in reversed(rare)]
        page = search.audit_event_page(scope=scope, f=f, limit=2)
        assert [e.pk for e in page.events] == [rare[2].pk, rare[1].pk]
        assert page.next_before == rare[1].pk
        rest = search.audit_event_page(scope=scope, f=f, before_id=page.next_before, limit=2)
        assert ([e.pk for e in rest.events], rest.next_before) == ([rare[0].pk], None)
    # Matches in both the window and below it come back in one order.
    newest = audit_record(action=AuditAction.STAFF_INVITED, target_label="rare-new")
    found = search.audit_event_ids(scope=scope, f=AuditFilter(group="staff"))
    assert found == [newest.pk, *(e.pk for e in reversed(rare))]


def test_with_many_clients_the_client_is_typed_by_name(client, admin_user, world, monkeypatch):
    from apps.audit import views

    monkeypatch.setattr(views, "CLIENT_SELECT_MAX", 1)  # two clients: too many for a list
    client.force_login(admin_user)
    body = client.get(LOG).content.decode()
    assert 'name="client_name"' in body and 'id="id_client"' not in body
    response = client.get(LOG, {"client_name": "elsewhere ltd", "group": "connections"})
    assert shown(response, world) == ids(world, "other_connected")
    assert f"client={world.other.pk}" in response.context["query"]  # pages keep the client
    response = client.get(LOG, {"client": world.client.pk})
    assert 'value="Northwind Coffee"' in response.content.decode()
    response = client.get(LOG, {"client_name": "Nobody Inc"})
    assert "None of your clients is called “Nobody Inc”." in response.content.decode()
    assert len(shown(response, world)) == len(world.events)
