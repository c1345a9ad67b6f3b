"""Chain verification from the browser: an admin starts it, a background task walks the chain in
steps storing its progress, the page polls (htmx) and finally names the first broken link."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.audit import services
from apps.audit.actions import AuditAction
from apps.audit.models import AuditEvent, ChainVerification
from apps.audit.services import audit_record, chain_verification_start, chain_verification_step
from apps.common import jobs
from tests.audit.test_chain import _tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """Tasks enqueued, as (path, args), instead of sent to the broker."""
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr(jobs, "async_task", lambda func, *args, **kw: sent.append((func, args)))
    return sent


@pytest.fixture
def worker(monkeypatch, django_capture_on_commit_callbacks):
    """A worker that runs each task as soon as its transaction commits (the test's own
    transaction never does: its on-commit callbacks run when the block ends)."""
    monkeypatch.setattr(jobs, "async_task", lambda func, *args, **kw: import_string(func)(*args))
    return lambda: django_capture_on_commit_callbacks(execute=True)


def chain(n: int) -> list[AuditEvent]:
    return [audit_record(action=AuditAction.AUTH_LOGIN, actor_label=f"e{i}") for i in range(n)]


def test_an_admin_starts_a_run_that_goes_in_steps(
    client, admin_user, queued, django_capture_on_commit_callbacks, monkeypatch
):
    events = chain(5)
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("audit:verify"))
    run = ChainVerification.objects.get()
    assert response["Location"] == reverse("audit:verification", args=[run.pk])
    assert run.upto_id == AuditEvent.objects.order_by("-id").first().pk
    assert queued == [("apps.audit.tasks.verify_chain_step", (run.pk,))]

    monkeypatch.setattr(services, "STEP_EVENTS", 2)
    with django_capture_on_commit_callbacks(execute=True):
        import_string(queued[0][0])(run.pk)  # the worker runs the first step
    run.refresh_from_db()
    assert (run.status, run.checked, run.cursor_id, run.steps) == ("running", 2, events[1].pk, 1)
    assert len(queued) == 2  # the next step is queued
    page = client.get(reverse("audit:verification", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in page and "2 events verified so far" in page


def test_a_whole_run_reports_an_intact_chain(client, admin_user, worker):
    chain(7)
    client.force_login(admin_user)  # an auth.login event too
    with worker():
        run = chain_verification_start(actor=admin_user)
    run.refresh_from_db()
    assert run.status == ChainVerification.Status.OK
    assert run.checked == 8 and run.finished_at is not None
    page = client.get(reverse("audit:verification", args=[run.pk]))
    body = page.content.decode()
    assert "All 8 events verified" in body and "hx-trigger" not in body  # polling stops
    verdict = AuditEvent.objects.filter(action=AuditAction.AUDIT_CHAIN_VERIFIED).get()
    assert verdict.actor_id == admin_user.pk and verdict.data["result"] == "ok"


def test_a_tampered_row_is_named_as_the_first_broken_link(client, admin_user, worker, monkeypatch):
    monkeypatch.setattr(services, "STEP_EVENTS", 3)
    events = chain(10)
    _tamper(events[6].pk, actor_label="forged")
    _tamper(events[8].pk, prev_hash="f" * 64)  # a later break is not the first one
    with worker():
        run = chain_verification_start(actor=admin_user)
    run.refresh_from_db()
    assert (run.status, run.broken_id, run.checked) == ("broken", events[6].pk, 6)
    assert run.reason == "content does not match its hash"
    assert run.steps == 3  # 3 + 3 verified, the third step stopped at the broken link
    client.force_login(admin_user)
    body = client.get(reverse("audit:verification", args=[run.pk])).content.decode()
    assert f"The first broken link is event {events[6].pk}" in body
    assert reverse("audit:event", args=[events[6].pk]) in body


def test_the_progress_card_is_an_htmx_fragment(client, admin_user, queued):
    chain(2)
    run = chain_verification_start(actor=admin_user)
    client.force_login(admin_user)
    fragment = client.get(
        reverse("audit:verification", args=[run.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert fragment.lstrip().startswith('<section class="card" id="run"')
    assert "<html" not in fragment


def test_a_step_delivered_twice_counts_once(admin_user, queued, monkeypatch):
    """The broker may deliver a step twice, both reading the same cursor: the one that stores its
    progress second finds the cursor moved and stores nothing."""
    chain(4)
    run = chain_verification_start(actor=admin_user)
    real_walk = services.audit_chain_walk
    raced = []

    def walk_while_a_duplicate_runs(**kwargs):
        result = real_walk(**kwargs)
        if not raced:
            raced.append(True)
            chain_verification_step(verification_id=run.pk)  # the duplicate delivery
        return result

    monkeypatch.setattr(services, "audit_chain_walk", walk_while_a_duplicate_runs)
    chain_verification_step(verification_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.checked, run.steps) == ("ok", 4, 1)
    assert AuditEvent.objects.filter(action=AuditAction.AUDIT_CHAIN_VERIFIED).count() == 1
    # A late delivery to a finished run does nothing.
    chain_verification_step(verification_id=run.pk)
    assert AuditEvent.objects.filter(action=AuditAction.AUDIT_CHAIN_VERIFIED).count() == 1


def test_one_run_at_a_time_unless_it_stalled(admin_user, queued):
    chain(2)
    first = chain_verification_start(actor=admin_user)
    assert chain_verification_start(actor=admin_user) == first
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        second = chain_verification_start(actor=admin_user)
    assert second != first


@pytest.mark.parametrize("role", ["manager", "staff_member", "outsider"])
def test_only_admins_verify(client, request, role, admin_user, queued):
    run = chain_verification_start(actor=admin_user)
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("audit:verify")).status_code == 404
    assert client.post(reverse("audit:verify")).status_code == 404
    assert client.get(reverse("audit:verification", args=[run.pk])).status_code == 404
    assert ChainVerification.objects.count() == 1
