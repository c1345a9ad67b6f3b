"""The account manager hears about an account once per episode (DESIGN §5): when it leaves
`active`, and when it becomes `expiring` — not at every check; again after recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from apps.connections import tasks
from apps.connections.lifecycle import NOTIFY_TASK, account_transition
from apps.connections.models import Credential, LinkedAccount, State
from apps.connections.services.health import account_check
from apps.connections.services.notify import EXPIRY_NOTICE_CLAIM, notify_account_problems
from tests.connections.helpers import captured_tasks, connect
from tests.factories import CredentialFactory, LinkedAccountFactory


def run_notices(calls) -> list[str]:
    sent: list[str] = []
    for func, args in calls:
        if func == NOTIFY_TASK:
            sent += tasks.notify(*args)
    return sent


def move(account: LinkedAccount, to: str, reason: str = "r") -> list[str]:
    """Transition, then run the notify task it queued (as the worker would)."""
    with captured_tasks() as calls:
        account_transition(account=LinkedAccount.objects.get(pk=account.pk), to=to, reason=reason)
    return run_notices(calls)


@pytest.mark.django_db(transaction=True)
def test_the_manager_is_emailed_once_when_an_account_leaves_active(client_obj, manager):
    account = LinkedAccountFactory(client=client_obj)
    assert move(account, State.REFRESH_FAILING, "TikTok is throttling") == ["state"]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [manager.email]
    assert "Refresh failing" in message.subject and client_obj.name in message.subject
    assert "TikTok is throttling" in message.body
    assert f"/connections/{account.pk}/" in message.body
    # Later runs for the same state send nothing.
    assert notify_account_problems(account_id=account.pk) == []
    assert notify_account_problems(account_id=account.pk) == []
    assert len(mail.outbox) == 1
    # Getting worse is news; recovering and failing again is a new episode.
    assert move(account, State.NEEDS_RECONNECT) == ["state"]
    assert move(account, State.ACTIVE) == []
    assert LinkedAccount.objects.get(pk=account.pk).notified_state == ""
    assert move(account, State.NEEDS_RECONNECT) == ["state"]
    assert len(mail.outbox) == 3


@pytest.mark.django_db(transaction=True)
def test_repeated_failing_checks_send_one_email(sandbox, oauth, staff_member, client_obj, manager):
    account = connect(oauth, staff_member, client_obj, "instagram")
    sandbox.action("ig-business", "change_password")
    with captured_tasks() as calls:
        for _ in range(3):
            account_check(account_id=account.pk)
    assert [f for f, _ in calls].count(NOTIFY_TASK) == 1
    assert run_notices(calls) == ["state"]
    assert notify_account_problems(account_id=account.pk) == []
    assert [m.to for m in mail.outbox] == [[manager.email]]
    assert "Needs reconnect" in mail.outbox[0].subject


@pytest.mark.django_db(transaction=True)
def test_the_manager_is_emailed_once_when_an_account_becomes_expiring(client_obj, manager):
    account = LinkedAccountFactory(client=client_obj, platform="tiktok")
    CredentialFactory(account=account, refresh_expires_in=10 * 24 * 3600)
    with captured_tasks() as calls:
        tasks.sweep()
    assert (NOTIFY_TASK, (account.pk,)) in calls
    assert run_notices(calls) == ["expiring"]
    assert "reconnect" in mail.outbox[0].subject.lower()
    with captured_tasks() as again:
        tasks.sweep()
    assert (NOTIFY_TASK, (account.pk,)) not in again
    assert notify_account_problems(account_id=account.pk) == []
    assert len(mail.outbox) == 1
    # A reconnect gives a fresh chain: the episode ends; when it nears its end, a new one starts.
    CredentialFactory(account=account, refresh_expires_in=365 * 24 * 3600)
    assert notify_account_problems(account_id=account.pk) == []
    assert LinkedAccount.objects.get(pk=account.pk).expiring_notified_at is None
    Credential.objects.filter(account=account).update(
        refresh_expires_at=timezone.now() + timedelta(days=3)
    )
    with captured_tasks() as later:
        tasks.sweep()
    assert run_notices(later) == ["expiring"]
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_the_sweep_hands_an_expiry_notice_out_once_until_its_claim_lapses(client_obj, manager):
    account = LinkedAccountFactory(client=client_obj, platform="tiktok")
    CredentialFactory(account=account, refresh_expires_in=10 * 24 * 3600)
    with captured_tasks() as first:
        tasks.sweep()
    with captured_tasks() as second:
        tasks.sweep()  # the next minute, or another cluster: the notice is not run yet

    assert [args for func, args in first + second if func == NOTIFY_TASK] == [(account.pk,)]
    # The task was lost: once the claim lapses, the next sweep hands the notice out again.
    with time_machine.travel(timezone.now() + EXPIRY_NOTICE_CLAIM + timedelta(seconds=1)):
        with captured_tasks() as later:
            tasks.sweep()
        assert run_notices(later) == ["expiring"]
        assert LinkedAccount.objects.get(pk=account.pk).expiry_notice_claimed_until is None
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_no_email_without_an_active_account_manager_but_the_episode_is_recorded(
    client_obj, manager
):
    manager.is_active = False
    manager.save()
    account = LinkedAccountFactory(client=client_obj)
    assert move(account, State.REVOKED_ON_PLATFORM) == []
    assert mail.outbox == []
    assert LinkedAccount.objects.get(pk=account.pk).notified_state == State.REVOKED_ON_PLATFORM


@pytest.mark.django_db(transaction=True)
def test_a_disconnect_is_not_a_problem_to_report(client_obj):
    account = LinkedAccountFactory(client=client_obj)
    assert move(account, State.DISCONNECT_PENDING) == []
    assert move(account, State.DISCONNECTED) == []
    assert mail.outbox == []
