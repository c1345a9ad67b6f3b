"""The role handoff service (DESIGN §8): what moves, what is audited, what is refused."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from apps.audit.actions import AuditAction
from apps.audit.models import AuditEvent
from apps.clients.models import Client, ClientMembership
from apps.connections.models import ConnectLink
from apps.publishing.models import CrossPost
from apps.staff.handoff.selectors import handoff_holdings, handoff_report
from apps.staff.handoff.services import CHECK_TASK, HandoffAlreadyDone, handoff_complete
from apps.staff.models import Role, User
from tests.connections.helpers import captured_tasks
from tests.factories import UserFactory
from tests.staff.handoff_helpers import Book, build_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(admin_user, manager, staff_member, client_obj) -> Book:
    return build_book(
        admin=admin_user, departing=manager, northwind=client_obj, teammate=staff_member
    )


def team(client: Client) -> set[str]:
    return set(ClientMembership.objects.filter(client=client).values_list("user__name", flat=True))


def run(book: Book, admin: User, receiving: User, clients: list[Client], **kwargs) -> AuditEvent:
    return handoff_complete(
        actor=admin,
        departing=book.departing,
        receiving=receiving,
        client_ids=[c.pk for c in clients],
        **kwargs,
    )


def test_the_preview_lists_what_they_hold_client_by_client(book, other_manager):
    holdings = handoff_holdings(departing=book.departing, receiving=other_manager)
    by_name = {h.client.name: h for h in holdings.clients}
    assert list(by_name) == ["Harbor Lights Hotel", "Kumo Ramen", "Northwind Coffee"]
    northwind = by_name["Northwind Coffee"]
    assert northwind.is_manager and northwind.is_member and not northwind.receiver_on_team
    assert northwind.posts == [book.northwind_post]  # the published one is done: not held
    assert northwind.links == [book.northwind_link]  # the used one is closed: not held
    assert northwind.accounts == [book.northwind_account]
    assert {a.pk for a in by_name["Kumo Ramen"].accounts} == {
        book.kumo_account.pk,
        book.revoked_account.pk,
    }
    harbor = by_name["Harbor Lights Hotel"]
    assert harbor.is_member and not harbor.is_manager and not harbor.posts
    assert holdings.totals() == {
        "clients": 3,
        "managed": 2,
        "member": 3,
        "posts": 2,
        "links": 1,
        "accounts": 3,
    }


def test_it_hands_over_every_client(
    book, admin_user, other_manager, django_capture_on_commit_callbacks
):
    with captured_tasks() as tasks, django_capture_on_commit_callbacks(execute=True):
        event = run(book, admin_user, other_manager, [book.northwind, book.kumo, book.harbor])

    for client in (book.northwind, book.kumo, book.harbor):
        client.refresh_from_db()
        assert "Max Manager" not in team(client)
        assert "Mia Othermanager" in team(client)
    assert book.northwind.account_manager == other_manager
    assert book.kumo.account_manager == other_manager
    assert book.harbor.account_manager == admin_user  # never theirs to hand over
    assert set(CrossPost.objects.filter(created_by=other_manager)) == {
        book.northwind_post,
        book.kumo_post,
    }
    assert CrossPost.objects.get(pk=book.published_post.pk).created_by == book.departing
    link = ConnectLink.objects.get(pk=book.northwind_link.pk)
    assert link.revoked_at is not None and link.revoked_by == admin_user
    # Accounts they connected are checked at once; a revoked one has nothing to check.
    assert sorted(tasks) == sorted(
        [(CHECK_TASK, (book.northwind_account.pk,)), (CHECK_TASK, (book.kumo_account.pk,))]
    )
    assert event.action == AuditAction.HANDOFF_COMPLETED
    assert User.objects.get(pk=book.departing.pk).is_active  # not asked to deactivate


def test_it_hands_over_some_clients_and_leaves_the_rest(book, admin_user, other_manager):
    run(book, admin_user, other_manager, [book.kumo])

    book.northwind.refresh_from_db()
    book.kumo.refresh_from_db()
    assert book.kumo.account_manager == other_manager
    assert team(book.kumo) == {"Mia Othermanager", "Sam Staff"}
    assert book.northwind.account_manager == book.departing
    assert "Max Manager" in team(book.northwind) and "Max Manager" in team(book.harbor)
    assert CrossPost.objects.get(pk=book.kumo_post.pk).created_by == other_manager
    assert CrossPost.objects.get(pk=book.northwind_post.pk).created_by == book.departing
    assert ConnectLink.objects.get(pk=book.northwind_link.pk).is_open


def test_a_receiver_already_on_the_team_keeps_one_place(book, admin_user, staff_member):
    # Sam is on Northwind's and Kumo's teams already; Harbor is only a team place.
    run(book, admin_user, staff_member, [book.harbor])
    assert team(book.harbor) == {"Ada Admin", "Sam Staff"}
    assert ClientMembership.objects.filter(client=book.harbor, user=staff_member).count() == 1


def test_every_change_is_one_event_and_all_share_the_handoff_id(book, admin_user, other_manager):
    before = AuditEvent.objects.count()
    event = run(book, admin_user, other_manager, [book.northwind, book.harbor], deactivate=True)

    new = list(AuditEvent.objects.order_by("id")[before:])
    assert new[-1] == event
    handoff_id = event.data["handoff_id"]
    assert all(e.data.get("handoff_id") == handoff_id for e in new)
    changes = new[:-1]
    assert [e.action for e in changes] == [
        AuditAction.HANDOFF_TEAM_MOVED,  # Harbor (by name): team only
        AuditAction.HANDOFF_MANAGER_MOVED,  # Northwind: manager …
        AuditAction.HANDOFF_TEAM_MOVED,  # … and team
        AuditAction.HANDOFF_POST_MOVED,
        AuditAction.CONNECT_LINK_REVOKED,
        AuditAction.STAFF_DEACTIVATED,
    ]
    assert event.data["change_event_ids"] == [e.pk for e in changes]
    manager_moved = changes[1]
    assert manager_moved.client_id == book.northwind.pk
    assert manager_moved.data["changes"]["account_manager"] == {
        "before": "Max Manager <max@agency.example>",
        "after": "Mia Othermanager <mia@agency.example>",
    }
    assert changes[0].data["left"] == "Max Manager <max@agency.example>"
    assert changes[0].data["joined"] == "Mia Othermanager <mia@agency.example>"
    assert event.data["departing"] == "Max Manager <max@agency.example>"
    assert event.data["clients"] == [
        {"id": book.harbor.pk, "name": "Harbor Lights Hotel"},
        {"id": book.northwind.pk, "name": "Northwind Coffee"},
    ]
    assert event.data["checks_queued"] == [
        {
            "id": book.northwind_account.pk,
            "label": "TikTok @northwind",
            "client": "Northwind Coffee",
        }
    ]
    report = handoff_report(event_id=event.pk)
    assert report is not None and report.changes == changes


def test_with_deactivation_every_session_of_theirs_ends(book, admin_user, other_manager):
    browser = HttpClient()
    browser.force_login(book.departing)
    assert browser.get(reverse("dashboard")).status_code == 200
    others = HttpClient()
    others.force_login(other_manager)

    event = run(book, admin_user, other_manager, [book.kumo], deactivate=True)

    departing = User.objects.get(pk=book.departing.pk)
    assert not departing.is_active and departing.deactivated_at is not None
    assert event.data["deactivated"] is True and event.data["sessions_ended"] >= 1
    sessions = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
    assert str(departing.pk) not in sessions and str(other_manager.pk) in sessions
    response = browser.get(reverse("dashboard"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_last_active_admin_cannot_be_deactivated_through_a_handoff(
    admin_user, manager, client_obj, django_capture_on_commit_callbacks
):
    """An admin leaving hands their clients over and deactivates themselves; the last one may
    not, and then nothing moves at all."""
    client_obj.account_manager = admin_user
    client_obj.save()
    ClientMembership.objects.create(client=client_obj, user=admin_user)
    UserFactory(name="Gone Admin", role=Role.ADMIN, is_active=False)
    events = AuditEvent.objects.count()

    with (
        captured_tasks() as tasks,
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as refused,
    ):
        handoff_complete(
            actor=admin_user,
            departing=admin_user,
            receiving=manager,
            client_ids=[client_obj.pk],
            deactivate=True,
        )
    assert refused.value.code == "last_admin"
    assert "Ada Admin is the last active admin" in refused.value.messages[0]
    client_obj.refresh_from_db()
    assert client_obj.account_manager == admin_user
    assert "Ada Admin" in team(client_obj)
    assert User.objects.get(pk=admin_user.pk).is_active
    assert AuditEvent.objects.count() == events
    assert tasks == []


def test_an_admin_with_a_colleague_can_hand_over_and_leave(admin_user, manager, client_obj):
    UserFactory(name="Olga Admin", role=Role.ADMIN)
    ClientMembership.objects.create(client=client_obj, user=admin_user)
    event = handoff_complete(
        actor=admin_user,
        departing=admin_user,
        receiving=manager,
        client_ids=[client_obj.pk],
        deactivate=True,
    )
    assert event.data["deactivated"] is True
    assert not User.objects.get(pk=admin_user.pk).is_active


def test_a_staff_member_cannot_receive_an_account_manager_role(book, admin_user, outsider):
    with pytest.raises(ValidationError) as refused:
        run(book, admin_user, outsider, [book.northwind, book.harbor])
    assert refused.value.code == "receiver_cannot_manage"
    assert (
        "Olive Outsider is staff and can't be the account manager of Northwind Coffee"
        in (refused.value.messages[0])
    )
    assert "Olive Outsider" not in team(book.harbor)  # nothing moved
    # A client where they are only on the team can go to staff.
    run(book, admin_user, outsider, [book.harbor])
    assert "Olive Outsider" in team(book.harbor)


@pytest.mark.parametrize(
    ("case", "code"),
    [("same", "same_person"), ("inactive", "receiver_inactive"), ("nothing", "nothing_chosen")],
)
def test_it_refuses_a_plan_that_makes_no_sense(book, admin_user, other_manager, case, code):
    receiving, clients = other_manager, [book.kumo]
    if case == "same":
        receiving = book.departing
    elif case == "inactive":
        other_manager.is_active = False
        other_manager.save()
    else:
        clients = []
    with pytest.raises(ValidationError) as refused:
        run(book, admin_user, receiving, clients)
    assert refused.value.code == code


def test_a_deactivated_persons_clients_can_still_be_handed_over(book, admin_user, other_manager):
    book.departing.is_active = False
    book.departing.save()
    event = run(book, admin_user, other_manager, [book.kumo], deactivate=True)
    assert event.data["deactivated"] is False  # already: nothing to do, no event
    book.kumo.refresh_from_db()
    assert book.kumo.account_manager == other_manager


def test_the_same_plan_runs_once(book, admin_user, other_manager):
    first = run(book, admin_user, other_manager, [book.kumo], plan_id="plan-1")
    with pytest.raises(HandoffAlreadyDone) as again:
        run(book, admin_user, other_manager, [book.kumo], plan_id="plan-1")
    assert again.value.event == first
