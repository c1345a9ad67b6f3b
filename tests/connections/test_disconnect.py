"""Two-sided disconnect against the sandbox: pending, revoked at the platform, tokens gone,
history kept; retried on transient failures; Instagram best effort; idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.connections import tasks
from apps.connections.models import (
    AccountAttempt,
    Credential,
    LinkedAccount,
    State,
    StateChange,
    WebhookEvent,
)
from apps.connections.services.disconnect import (
    REVOKE_TASK,
    account_disconnect,
    account_revoke_at_platform,
)
from tests.connections.helpers import captured_tasks, connect
from tests.factories import CredentialFactory, LinkedAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def token_states(sandbox, key: str) -> set[str]:
    return {
        t["state"] for t in sandbox.api("GET", "/tokens", account=key) if t["kind"] != "tt_code"
    }


def run_revokes(calls) -> list[str]:
    return [str(account_revoke_at_platform(account_id=args[0])) for func, args in calls
            if func == REVOKE_TASK]  # fmt: skip


def test_it_disconnects_a_tiktok_account_on_both_sides(sandbox, oauth, staff_member, client_obj):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    with captured_tasks() as calls:
        account_disconnect(account=account, actor=staff_member)
    assert LinkedAccount.objects.get(pk=account.pk).state == State.DISCONNECT_PENDING
    assert (REVOKE_TASK, (account.pk,)) in calls
    assert run_revokes(calls) == ["disconnected"]
    account.refresh_from_db()
    assert account.state == State.DISCONNECTED and account.disconnected_at is not None
    assert account.platform_revoke_done
    assert account.platform_revoke_note == (
        "TikTok confirmed that Switchboard's access was removed, and our tokens were deleted."
    )
    revoke = account.attempts.get()
    assert (revoke.kind, revoke.outcome) == (AccountAttempt.Kind.REVOKE, AccountAttempt.Outcome.OK)
    assert revoke.finished_at is not None and revoke.duration_ms is not None
    assert not Credential.objects.filter(account=account).exists()
    # The platform revoked every token and told us so (webhook reason 5), which we recorded.
    assert "live" not in token_states(sandbox, "tt-public")
    webhook = WebhookEvent.objects.get()
    assert webhook.verified and webhook.result == "platform confirmed our revoke"
    # History and audit stay.
    assert [(c.from_state, c.to_state) for c in StateChange.objects.order_by("id")] == [
        ("active", "disconnect_pending"),
        ("disconnect_pending", "disconnected"),
    ]
    actions = list(
        AuditEvent.objects.filter(target_id=str(account.pk)).values_list("action", flat=True)
    )
    assert "connection.disconnect_requested" in actions and "connection.disconnected" in actions
    assert AuditEvent.objects.get(action="connection.disconnect_requested").actor == staff_member


def test_a_transient_revoke_failure_stays_pending_until_the_sweep_retries(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.fault("tiktok.revoke", error="server_error", times=1)
    with captured_tasks() as calls:
        account_disconnect(account=account, actor=staff_member)
    assert run_revokes(calls) == ["retry"]
    account.refresh_from_db()
    assert account.state == State.DISCONNECT_PENDING
    assert account.revoke_attempts == 1
    assert account.platform_revoke_note.startswith(
        "Removing our access at TikTok failed (1 of 8 tries); trying again shortly."
    )
    failed = account.attempts.get()
    assert failed.outcome == AccountAttempt.Outcome.UNKNOWN and failed.error_code
    assert Credential.objects.filter(account=account).exists()  # still needed to revoke
    assert "live" in token_states(sandbox, "tt-public")
    # The sweep leaves it alone for a few minutes, then retries.
    with captured_tasks() as early:
        tasks.sweep()
    assert (REVOKE_TASK, (account.pk,)) not in early
    with time_machine.travel(timezone.now() + timedelta(minutes=7)):
        with captured_tasks() as later:
            tasks.sweep()
        assert run_revokes(later) == ["disconnected"]
    account.refresh_from_db()
    assert account.state == State.DISCONNECTED and account.platform_revoke_done
    assert not Credential.objects.filter(account=account).exists()
    assert "live" not in token_states(sandbox, "tt-public")


def test_instagram_is_best_effort_and_says_so(sandbox, oauth, staff_member, client_obj):
    account = connect(oauth, staff_member, client_obj, "instagram")
    with captured_tasks() as calls:
        account_disconnect(account=account, actor=staff_member)
    assert run_revokes(calls) == ["disconnected"]
    account.refresh_from_db()
    assert account.state == State.DISCONNECTED
    assert account.platform_revoke_note.startswith("Instagram confirmed")
    assert not Credential.objects.filter(account=account).exists()


def test_instagram_refusing_the_permission_removal_is_recorded(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "instagram")
    sandbox.fault("instagram.permissions_delete", error="unknown")
    with captured_tasks() as calls:
        account_disconnect(account=account, actor=staff_member)
    assert run_revokes(calls) == ["disconnected"]
    account.refresh_from_db()
    assert account.state == State.DISCONNECTED and not account.platform_revoke_done
    assert "did not confirm removing our access" in account.platform_revoke_note
    assert account.attempts.get().outcome == AccountAttempt.Outcome.FAILED


def test_a_double_disconnect_is_idempotent(sandbox, oauth, staff_member, client_obj):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    with captured_tasks() as calls:
        account_disconnect(account=account, actor=staff_member)
        account_disconnect(account=account, actor=staff_member)
    assert calls.count((REVOKE_TASK, (account.pk,))) == 1
    assert run_revokes(calls) == ["disconnected"]
    assert (
        str(account_revoke_at_platform(account_id=account.pk)) == "skipped: account is disconnected"
    )
    with captured_tasks() as again:
        account_disconnect(account=account, actor=staff_member)
    assert again == []
    assert StateChange.objects.filter(account=account).count() == 2
    assert AuditEvent.objects.filter(action="connection.disconnect_requested").count() == 1
    assert AuditEvent.objects.filter(action="connection.disconnected").count() == 1


def test_a_revoked_account_can_still_be_disconnected(sandbox, oauth, staff_member, client_obj):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.action("tt-public", "remove_app")
    with captured_tasks() as calls:
        account_disconnect(account=LinkedAccount.objects.get(pk=account.pk), actor=staff_member)
    assert run_revokes(calls) == ["disconnected"]
    account.refresh_from_db()
    assert account.state == State.DISCONNECTED and account.platform_revoke_done
    assert not Credential.objects.filter(account=account).exists()
    assert [c.to_state for c in StateChange.objects.order_by("id")] == [
        "revoked_on_platform",
        "disconnect_pending",
        "disconnected",
    ]


@pytest.mark.django_db
def test_revoke_retries_back_off_and_each_is_handed_out_once(
    client_obj, staff_member, django_capture_on_commit_callbacks
):
    from unittest import mock

    from apps.connections.providers import provider_for
    from apps.platforms.errors import Category, PlatformError

    account = LinkedAccountFactory(client=client_obj)
    CredentialFactory(account=account)
    down = PlatformError(
        platform="tiktok", category=Category.TRANSIENT, code="internal_error", message="down"
    )
    start = timezone.now()
    with mock.patch.object(provider_for("tiktok"), "revoke", side_effect=down):
        with captured_tasks():
            account_disconnect(account=account, actor=staff_member)
        assert str(account_revoke_at_platform(account_id=account.pk)) == "retry"  # attempt 1
        account.refresh_from_db()
        waits = [account.next_revoke_at - timezone.now()]
        for attempt in (2, 3):
            with time_machine.travel(account.next_revoke_at + timedelta(seconds=1)):
                with captured_tasks() as first, django_capture_on_commit_callbacks(execute=True):
                    tasks.sweep()
                with captured_tasks() as second, django_capture_on_commit_callbacks(execute=True):
                    tasks.sweep()  # another cluster, the same minute
                assert first.count((REVOKE_TASK, (account.pk,))) == 1
                assert (REVOKE_TASK, (account.pk,)) not in second
                assert str(account_revoke_at_platform(account_id=account.pk)) == "retry"
                account.refresh_from_db()
                waits.append(account.next_revoke_at - timezone.now())
            assert account.revoke_attempts == attempt
    # 5 minutes, then about 10, then 20: each wait doubles (with ±20 % jitter), never every
    # minute. A wait is read a moment after it was set, so the bounds allow a few seconds.
    slack = timedelta(seconds=5)
    assert timedelta(minutes=4) - slack <= waits[0] <= timedelta(minutes=6)
    assert timedelta(minutes=8) - slack <= waits[1] <= timedelta(minutes=12)
    assert timedelta(minutes=16) - slack <= waits[2] <= timedelta(minutes=24)
    assert AccountAttempt.objects.filter(account=account, kind="revoke").count() == 3
    assert start < account.next_revoke_at
