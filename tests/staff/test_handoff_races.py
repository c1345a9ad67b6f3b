"""The handoff against everything else happening at once (DESIGN §8).

The first tests put the other party's write exactly between the handoff reading what the
person holds and locking the rows it changes (`handoff_holdings` is the seam): on any database
that is "the other transaction committed first". The last ones race real PostgreSQL sessions
in threads (skipped on SQLite, whose test database is one in-memory connection).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.models import AuditEvent
from apps.clients.models import ClientMembership
from apps.clients.services import client_membership_add
from apps.connections.models import ConnectLink
from apps.connections.services.links import connect_link_create, connect_link_revoke
from apps.publishing.models import CrossPost, PublishTarget, TargetState
from apps.publishing.pipeline.dispatch import dispatch_due
from apps.publishing.services import crosspost_cancel
from apps.staff.handoff import selectors as handoff_selectors
from apps.staff.handoff import services as handoff_services
from apps.staff.handoff.forms import Plan
from apps.staff.handoff.services import HandoffChanged, handoff_complete
from apps.staff.models import User
from tests.connections.helpers import captured_tasks
from tests.factories import ClientFactory
from tests.staff.handoff_helpers import Book, build_book
from tests.staff.helpers import signed_in

PUBLISH_TASK = "apps.publishing.tasks.publish_target"


@pytest.fixture
def book(admin_user, manager, staff_member, client_obj) -> Book:
    return build_book(
        admin=admin_user, departing=manager, northwind=client_obj, teammate=staff_member
    )


def meanwhile(monkeypatch: pytest.MonkeyPatch, action: Callable[[], Any]) -> None:
    """Run `action` right after the handoff has read what the person holds, before it locks."""
    original = handoff_services.handoff_holdings

    def read_then_act(**kwargs: Any) -> Any:
        holdings = original(**kwargs)
        action()
        return holdings

    monkeypatch.setattr(handoff_services, "handoff_holdings", read_then_act)


def seen_now(book: Book, receiving: User) -> handoff_selectors.Snapshot:
    """What a confirm page drawn now would carry."""
    return handoff_selectors.handoff_holdings(
        departing=book.departing, receiving=receiving
    ).snapshot()


def make_due(book: Book) -> None:
    past = timezone.now() - timedelta(seconds=5)
    CrossPost.objects.filter(pk=book.northwind_post.pk).update(scheduled_at=past)
    PublishTarget.objects.filter(pk=book.northwind_target.pk).update(due_at=past)


# --- One write lands between the handoff's read and its locks ------------------------------------


def hand_over_northwind(book, actor, receiving, **options):
    """The handoff these races run: the departing manager's Northwind, to `receiving`."""
    return handoff_complete(
        actor=actor,
        departing=book.departing,
        receiving=receiving,
        client_ids=[book.northwind.pk],
        **options,
    )


@pytest.mark.django_db
def test_a_post_dispatched_meanwhile_still_changes_owner(
    book, admin_user, other_manager, monkeypatch, django_capture_on_commit_callbacks
):
    make_due(book)
    seen = seen_now(book, other_manager)
    with captured_tasks() as tasks, django_capture_on_commit_callbacks(execute=True):
        meanwhile(monkeypatch, lambda: dispatch_due(limit=10))
        event = hand_over_northwind(book, admin_user, other_manager, seen=seen)
    target = PublishTarget.objects.get(pk=book.northwind_target.pk)
    assert target.state == TargetState.DISPATCHED and target.lease_owner  # the dispatcher's
    post = CrossPost.objects.get(pk=book.northwind_post.pk)
    assert post.created_by == other_manager  # and ours
    assert post.status == CrossPost.Status.SCHEDULED
    assert event.data["posts_finished"] == []
    assert [name for name, _ in tasks if name == PUBLISH_TASK] == [PUBLISH_TASK]


@pytest.mark.django_db
def test_a_post_cancelled_meanwhile_keeps_its_owner_and_the_report_says_so(
    book, admin_user, other_manager, monkeypatch
):
    seen = seen_now(book, other_manager)
    meanwhile(monkeypatch, lambda: crosspost_cancel(post=book.northwind_post, actor=book.departing))
    event = hand_over_northwind(book, admin_user, other_manager, seen=seen)
    assert CrossPost.objects.get(pk=book.northwind_post.pk).created_by == book.departing
    assert event.data["posts_finished"] == [
        {"id": book.northwind_post.pk, "client": "Northwind Coffee", "status": "Cancelled"}
    ]


@pytest.mark.django_db
def test_a_link_completed_meanwhile_is_not_revoked_and_the_report_says_so(
    book, admin_user, other_manager, monkeypatch
):
    seen = seen_now(book, other_manager)

    def brand_completes() -> None:  # what the OAuth callback writes for a connect link
        ConnectLink.objects.filter(pk=book.northwind_link.pk).update(
            used_at=timezone.now(), used_account=book.northwind_account
        )

    meanwhile(monkeypatch, brand_completes)
    event = hand_over_northwind(book, admin_user, other_manager, seen=seen)
    link = ConnectLink.objects.get(pk=book.northwind_link.pk)
    assert link.used_at is not None and link.revoked_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.CONNECT_LINK_REVOKED).exists()
    (found,) = event.data["links_not_revoked"]
    assert found["id"] == link.pk and found["outcome"] == "completed"


@pytest.mark.django_db
def test_the_report_page_tells_what_happened_to_that_link(
    book, admin_user, other_manager, monkeypatch
):
    seen = seen_now(book, other_manager)
    meanwhile(
        monkeypatch,
        lambda: ConnectLink.objects.filter(pk=book.northwind_link.pk).update(
            used_at=timezone.now()
        ),
    )
    event = hand_over_northwind(book, admin_user, other_manager, seen=seen)
    page = signed_in(admin_user).get(reverse("staff:handoff_report", args=[event.pk]))
    assert "The brand had already used it to connect an account; nothing to revoke." in (
        page.content.decode()
    )


@pytest.mark.django_db
def test_a_link_revoked_by_someone_else_meanwhile_is_revoked_once(
    book, admin_user, other_manager, monkeypatch
):
    seen = seen_now(book, other_manager)
    meanwhile(
        monkeypatch,
        lambda: connect_link_revoke(link=book.northwind_link, actor=book.departing),
    )
    event = hand_over_northwind(book, admin_user, other_manager, seen=seen)
    assert AuditEvent.objects.filter(action=AuditAction.CONNECT_LINK_REVOKED).count() == 1
    assert ConnectLink.objects.get(pk=book.northwind_link.pk).revoked_by == book.departing
    assert [o["outcome"] for o in event.data["links_not_revoked"]] == ["already_revoked"]


@pytest.mark.django_db
def test_a_link_revoked_by_the_handoff_can_no_longer_be_completed(
    book, admin_user, other_manager, client
):
    link, url = connect_link_create(client=book.northwind, platform="tiktok", actor=book.departing)
    hand_over_northwind(book, admin_user, other_manager)
    link.refresh_from_db()
    assert link.status == "revoked"
    landing = client.get("/connect/" + url.split("/connect/", 1)[1])
    assert landing.status_code == 410  # the brand is told the link no longer works


# --- The departing person acts after the confirm page was drawn ----------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("what", ["issues a link", "joins a team", "schedules a post"])
def test_anything_new_since_the_confirm_page_refuses_the_handoff(
    book, admin_user, other_manager, what
):
    seen = seen_now(book, other_manager)
    if what == "issues a link":
        connect_link_create(client=book.northwind, platform="tiktok", actor=book.departing)
        expected = {"links"}
    elif what == "joins a team":
        client_membership_add(actor=admin_user, client=book.elsewhere, user=book.departing)
        expected = {"clients", "member"}
    else:
        post = book.kumo_post
        post.pk = None
        post.submission_key = None
        post.save()
        PublishTarget.objects.create(
            crosspost=post, linked_account=book.kumo_account, platform="instagram"
        )
        expected = {"posts"}
    events = AuditEvent.objects.count()

    with pytest.raises(HandoffChanged) as changed:
        handoff_complete(
            actor=admin_user,
            departing=book.departing,
            receiving=other_manager,
            client_ids=[book.northwind.pk, book.kumo.pk],
            seen=seen,
        )
    assert set(changed.value.news) == expected
    assert AuditEvent.objects.count() == events
    book.northwind.refresh_from_db()
    assert book.northwind.account_manager == book.departing  # nothing moved
    # Drawn again, the page carries the news and the handoff goes through.
    handoff_complete(
        actor=admin_user,
        departing=book.departing,
        receiving=other_manager,
        client_ids=[book.northwind.pk, book.kumo.pk],
        seen=seen_now(book, other_manager),
    )
    assert not ConnectLink.objects.filter(
        created_by=book.departing, client=book.northwind, revoked_at__isnull=True, used_at=None
    ).exists()


@pytest.mark.django_db
def test_through_the_page_a_change_sends_the_admin_back_to_review(book, admin_user, other_manager):
    http = signed_in(admin_user)
    plan = Plan(
        departing_id=book.departing.pk,
        receiving_id=other_manager.pk,
        client_ids=(book.northwind.pk,),
        deactivate=False,
        seen=seen_now(book, other_manager),
    )
    connect_link_create(client=book.northwind, platform="tiktok", actor=book.departing)

    response = http.post(reverse("staff:handoff_run"), {"plan": plan.sign()})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("staff:handoff_confirm"))
    page = http.get(response["Location"]).content.decode()
    assert "Things changed since you reviewed this handoff (1 new connect link)" in page
    assert "2 open connect links" in page
    assert not AuditEvent.objects.filter(action=AuditAction.HANDOFF_COMPLETED).exists()


# --- Real PostgreSQL sessions ------------------------------------------------------------------


def needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("sessions racing need PostgreSQL (the SQLite test database is in memory)")


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []

    def body() -> None:
        try:
            result.append(work())
        except Exception as error:  # reported by the test
            result.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, result


@pytest.mark.django_db(transaction=True)
def test_postgresql_a_link_the_brand_completes_first_is_waited_for_and_not_revoked(
    admin_user, manager, staff_member, client_obj, other_manager
):
    needs_postgresql()
    book = build_book(
        admin=admin_user, departing=manager, northwind=client_obj, teammate=staff_member
    )
    seen = seen_now(book, other_manager)
    locked, release = threading.Event(), threading.Event()

    def brand_completes() -> None:
        with transaction.atomic():
            ConnectLink.objects.select_for_update().get(pk=book.northwind_link.pk)
            ConnectLink.objects.filter(pk=book.northwind_link.pk).update(used_at=timezone.now())
            locked.set()
            release.wait(10)

    brand, _ = in_thread(brand_completes)
    assert locked.wait(10)
    admin, outcome = in_thread(
        lambda: hand_over_northwind(book, admin_user, other_manager, seen=seen)
    )
    admin.join(1.0)
    assert admin.is_alive(), "the handoff must wait for the link's lock"
    release.set()
    brand.join(10)
    admin.join(30)
    (event,) = outcome
    assert isinstance(event, AuditEvent), event
    link = ConnectLink.objects.get(pk=book.northwind_link.pk)
    assert link.used_at is not None and link.revoked_at is None
    assert [o["outcome"] for o in event.data["links_not_revoked"]] == ["completed"]
    assert ClientMembership.objects.filter(client=client_obj, user=other_manager).exists()


@pytest.mark.django_db(transaction=True)
def test_postgresql_a_dispatch_racing_the_handoff_completes_and_so_does_the_handoff(
    admin_user, manager, staff_member, client_obj, other_manager, monkeypatch
):
    """The dispatcher claims the post's target while the handoff holds the post's row lock.
    Neither touches the other's rows (targets vs. the post's owner), so nothing deadlocks or is
    lost; the dispatcher's audit append waits for the handoff's commit (the chain's lock)."""
    needs_postgresql()
    book = build_book(
        admin=admin_user, departing=manager, northwind=client_obj, teammate=staff_member
    )
    make_due(book)
    posts_locked, go_on = threading.Event(), threading.Event()
    original = handoff_services._revoke_links

    def hold_the_post_locks(**kwargs: Any) -> Any:
        posts_locked.set()  # _move_posts has run: the post rows are locked until commit
        go_on.wait(20)
        return original(**kwargs)

    monkeypatch.setattr(handoff_services, "_revoke_links", hold_the_post_locks)
    with captured_tasks() as tasks:
        admin, outcome = in_thread(lambda: hand_over_northwind(book, admin_user, other_manager))
        assert posts_locked.wait(20)
        dispatcher, handed = in_thread(lambda: dispatch_due(limit=10))
        dispatcher.join(0.5)
        go_on.set()
        admin.join(30)
        dispatcher.join(30)
    assert not admin.is_alive() and not dispatcher.is_alive()
    (event,) = outcome
    assert isinstance(event, AuditEvent), event
    assert handed == [1]
    assert PublishTarget.objects.get(pk=book.northwind_target.pk).state == TargetState.DISPATCHED
    assert CrossPost.objects.get(pk=book.northwind_post.pk).created_by == other_manager
    assert [name for name, _ in tasks if name == PUBLISH_TASK] == [PUBLISH_TASK]


@pytest.mark.django_db(transaction=True)
def test_postgresql_two_submits_of_one_plan_hand_over_once(
    admin_user, manager, staff_member, client_obj, other_manager
):
    needs_postgresql()
    ClientFactory(name="Spare")  # ids differ from any earlier test's
    book = build_book(
        admin=admin_user, departing=manager, northwind=client_obj, teammate=staff_member
    )
    seen = seen_now(book, other_manager)
    start = threading.Barrier(2)

    def submit() -> Any:
        start.wait(10)
        return handoff_complete(
            actor=admin_user,
            departing=book.departing,
            receiving=other_manager,
            client_ids=[book.northwind.pk, book.kumo.pk],
            seen=seen,
            plan_id="same-plan",
        )

    runs = [in_thread(submit) for _ in range(2)]
    for thread, _ in runs:
        thread.join(30)
    outcomes = [result[0] for _, result in runs]
    assert sum(isinstance(o, AuditEvent) for o in outcomes) == 1
    assert sum(isinstance(o, handoff_services.HandoffAlreadyDone) for o in outcomes) == 1
    assert AuditEvent.objects.filter(action=AuditAction.HANDOFF_MANAGER_MOVED).count() == 2
