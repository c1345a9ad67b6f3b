"""Proactive refresh: which accounts are due, the sweep's task payloads, and rotation safety —
including two real worker processes refreshing one account at once on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.connections import outcomes, tasks, vault
from apps.connections.models import AccountAttempt, Credential, LinkedAccount, State
from apps.connections.providers import provider_for
from apps.connections.services import refresh as refresh_service
from apps.connections.services.health import account_check
from apps.connections.services.refresh import account_refresh, accounts_due_for_refresh
from apps.platforms.errors import AuthReason, Category, PlatformError
from apps.platforms.tiktok import client as tiktok
from apps.platforms.types import TokenSet
from tests.connections.helpers import captured_tasks, connect
from tests.factories import DAY, CredentialFactory, LinkedAccountFactory

ROOT = Path(__file__).resolve().parents[2]


def stored_pair(account: LinkedAccount) -> tuple[str, str]:
    credential = Credential.objects.get(account=account)
    return vault.access_token_of(credential), vault.refresh_token_of(credential)


def live_refresh_tokens(sandbox, key: str = "tt-public") -> list[str]:
    return [
        t["token"]
        for t in sandbox.api("GET", "/tokens", account=key)
        if t["kind"] == "tt_refresh" and t["state"] == "live"
    ]


@pytest.mark.django_db
def test_it_picks_only_refreshable_accounts_that_are_due(client_obj):
    now = timezone.now()
    due = LinkedAccountFactory(client=client_obj, external_id="due")
    CredentialFactory(account=due)
    failing = LinkedAccountFactory(
        client=client_obj, external_id="failing", state=State.REFRESH_FAILING
    )
    CredentialFactory(account=failing)
    later = LinkedAccountFactory(client=client_obj, external_id="later")
    CredentialFactory(account=later)
    broken = LinkedAccountFactory(
        client=client_obj, external_id="broken", state=State.NEEDS_RECONNECT
    )
    CredentialFactory(account=broken)
    LinkedAccountFactory(client=client_obj, external_id="no-credential")
    Credential.objects.filter(account__in=[due, broken]).update(
        next_refresh_at=now - timedelta(minutes=1)
    )
    Credential.objects.filter(account=failing).update(next_refresh_at=now - timedelta(hours=1))
    Credential.objects.filter(account=later).update(next_refresh_at=now + timedelta(minutes=5))
    assert accounts_due_for_refresh() == [failing.pk, due.pk]
    assert accounts_due_for_refresh(limit=1) == [failing.pk]


@pytest.mark.django_db
def test_the_sweep_enqueues_ids_only(client_obj, django_capture_on_commit_callbacks):
    account = LinkedAccountFactory(
        client=client_obj, next_check_at=timezone.now() - timedelta(minutes=1)
    )
    CredentialFactory(account=account)
    Credential.objects.filter(account=account).update(next_refresh_at=timezone.now())
    with captured_tasks() as calls, django_capture_on_commit_callbacks(execute=True):
        counts = tasks.sweep()
    assert counts["refresh"] == 1 and counts["check"] == 1
    assert ("apps.connections.tasks.refresh_account", (account.pk,)) in calls
    assert ("apps.connections.tasks.check_account", (account.pk,)) in calls
    assert all(isinstance(arg, int) for _, args in calls for arg in args)
    # The check was pushed forward, so the next sweep doesn't enqueue it twice.
    with captured_tasks() as again, django_capture_on_commit_callbacks(execute=True):
        tasks.sweep()
    assert ("apps.connections.tasks.check_account", (account.pk,)) not in again
    # The refresh was claimed too: a second sweep (or cluster) doesn't hand it out again.
    assert ("apps.connections.tasks.refresh_account", (account.pk,)) not in again


@pytest.mark.django_db
def test_a_claimed_refresh_keeps_other_workers_away(client_obj):
    account = LinkedAccountFactory(client=client_obj)
    CredentialFactory(account=account)
    Credential.objects.filter(account=account).update(
        refresh_claimed_until=timezone.now() + timedelta(minutes=1)
    )
    assert str(account_refresh(account_id=account.pk, force=True)) == (
        "skipped: another refresh is in progress"
    )


@pytest.mark.django_db(transaction=True)
def test_a_rotated_pair_is_committed_and_the_old_refresh_token_is_refused(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    old_access, old_refresh = stored_pair(account)
    assert str(account_refresh(account_id=account.pk, force=True)) == "refreshed"
    new_access, new_refresh = stored_pair(account)
    assert (new_access, new_refresh) != (old_access, old_refresh)
    credential = Credential.objects.get(account=account)
    assert credential.last_refreshed_at is not None and credential.refresh_claimed_until is None
    lifetime = credential.access_expires_at - credential.last_refreshed_at
    assert credential.next_refresh_at == credential.access_expires_at - lifetime / 4
    # The platform now refuses the old refresh token and accepts the stored pair.
    with pytest.raises(PlatformError) as refused:
        tiktok.refresh_tokens(refresh_token=old_refresh)
    assert refused.value.code == "invalid_grant"
    assert live_refresh_tokens(sandbox) == [new_refresh[:8] + "…"]
    assert str(account_check(account_id=account.pk)) == "ok"
    assert LinkedAccount.objects.get(pk=account.pk).state == State.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_an_instagram_token_is_refreshed_once_a_day_old(sandbox, oauth, staff_member, client_obj):
    account = connect(oauth, staff_member, client_obj, "instagram")
    before = Credential.objects.get(account=account)
    sandbox.advance(days=8)
    Credential.objects.filter(account=account).update(
        obtained_at=before.obtained_at - timedelta(days=8),
        next_refresh_at=timezone.now() - timedelta(seconds=1),
    )
    assert accounts_due_for_refresh() == [account.pk]
    assert str(account_refresh(account_id=account.pk)) == "refreshed"
    after = Credential.objects.get(account=account)
    assert after.access_expires_at > timezone.now() + timedelta(days=59)
    assert after.next_refresh_at > timezone.now() + timedelta(days=6)
    assert str(account_check(account_id=account.pk)) == "ok"


# --- Two workers, one account (PostgreSQL) ---------------------------------------------------

WORKER = """
import os, sys, time
import django
django.setup()
from apps.connections.services.refresh import account_refresh
start_at = float(os.environ["START_AT"])
time.sleep(max(0.0, start_at - time.time()))
print(str(account_refresh(account_id=int(sys.argv[1]), force=True)))
"""


def _worker_env(live_url: str) -> dict[str, str]:
    db = settings.DATABASES["default"]
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SWITCHBOARD_TESTING="1",
        DATABASE_URL=f"postgres://{auth}@{host}:{port}/{db['NAME']}",
        PUBLIC_BASE_URL=live_url,
        EMULATOR_BASE_URL=live_url + "/_emulator",
        TOKEN_ENCRYPTION_KEYS=",".join(settings.TOKEN_ENCRYPTION_KEYS),
        TIKTOK_CLIENT_KEY=settings.TIKTOK_CLIENT_KEY,
        TIKTOK_CLIENT_SECRET=settings.TIKTOK_CLIENT_SECRET,
        LOG_LEVEL="WARNING",
    )
    env.pop("REDIS_URL", None)
    return env


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_refreshing_at_once_leave_exactly_one_valid_pair(
    sandbox, oauth, staff_member, client_obj, live_server
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    _, old_refresh = stored_pair(account)
    # Each token call takes a moment, so the two workers overlap at the platform.
    sandbox.fault("tiktok.token", latency_ms=800)  # latency only
    env = _worker_env(live_server.url)
    env["START_AT"] = str(time.time() + 4)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(account.pk)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [w.communicate(timeout=60) for w in workers]
    sandbox.clear_faults()
    for worker, (_, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err[-2000:]
    outcomes = sorted(out.strip().splitlines()[-1] for out, _ in results)
    assert outcomes == ["refreshed", "skipped: another refresh is in progress"]
    account.refresh_from_db()
    assert account.state == State.ACTIVE
    _, new_refresh = stored_pair(account)
    assert new_refresh != old_refresh
    assert live_refresh_tokens(sandbox) == [new_refresh[:8] + "…"]
    with pytest.raises(PlatformError):
        tiktok.refresh_tokens(refresh_token=old_refresh)
    assert str(account_check(account_id=account.pk)) == "ok"


# --- When to refresh: from the lifetime actually granted (DESIGN §5, PLATFORMS §1.3) ----------


@pytest.mark.parametrize("lifetime_h", [2, 24])
@pytest.mark.django_db
def test_a_fresh_tiktok_token_is_not_refreshed_for_at_least_an_hour(
    client_obj, lifetime_h, django_capture_on_commit_callbacks
):
    account = LinkedAccountFactory(client=client_obj)
    credential = CredentialFactory(account=account, expires_in=lifetime_h * 3600)
    credential.next_refresh_at = refresh_service.next_refresh_due(account, credential)
    credential.save(update_fields=["next_refresh_at"])
    # Checked often, so the token is always "needed soon": only its age decides.
    LinkedAccount.objects.filter(pk=account.pk).update(next_check_at=timezone.now())
    start = timezone.now()
    for minute in range(0, 61, 5):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            assert account.pk not in accounts_due_for_refresh()
            with captured_tasks() as calls, django_capture_on_commit_callbacks(execute=True):
                tasks.sweep()
            assert ("apps.connections.tasks.refresh_account", (account.pk,)) not in calls
    # Due once less than a quarter of the granted lifetime is left (and a check needs it).
    with time_machine.travel(start + timedelta(hours=lifetime_h * 0.75, minutes=1), tick=False):
        LinkedAccount.objects.filter(pk=account.pk).update(next_check_at=timezone.now())
        assert accounts_due_for_refresh() == [account.pk]


@pytest.mark.django_db
def test_an_idle_tiktok_account_is_not_refreshed_until_a_call_needs_it(client_obj):
    account = LinkedAccountFactory(
        client=client_obj, next_check_at=timezone.now() + timedelta(hours=6)
    )
    credential = CredentialFactory(account=account, expires_in=7200)
    credential.next_refresh_at = refresh_service.next_refresh_due(account, credential)
    credential.save(update_fields=["next_refresh_at"])
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=45), tick=False):
        # Due by age, but its next check comes after the token expired: refreshing now would
        # only rotate the pair again for nothing; the check refreshes first.
        assert accounts_due_for_refresh() == []
        LinkedAccount.objects.filter(pk=account.pk).update(next_check_at=timezone.now())
        assert accounts_due_for_refresh() == [account.pk]


def test_a_routine_refresh_is_an_attempt_row_not_an_audit_event(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    before = AuditEvent.objects.count()
    assert str(account_refresh(account_id=account.pk, force=True)) == "refreshed"
    assert AuditEvent.objects.count() == before
    attempt = AccountAttempt.objects.get(account=account)
    assert attempt.kind == AccountAttempt.Kind.REFRESH
    assert attempt.outcome == AccountAttempt.Outcome.OK and attempt.duration_ms is not None


def test_a_failed_refresh_is_audited_and_recorded(sandbox, oauth, staff_member, client_obj):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    # Twice: a 5xx leaves the outcome unknown, so the refresh asks once more at once.
    sandbox.fault("tiktok.token", error="server_error", times=2)
    assert str(account_refresh(account_id=account.pk, force=True)) == "failed: server_error"
    assert AuditEvent.objects.filter(
        action="connection.refresh_failed", target_id=str(account.pk)
    ).exists()
    attempt = AccountAttempt.objects.get(account=account)
    assert attempt.outcome == AccountAttempt.Outcome.UNKNOWN
    assert attempt.error_code == "server_error"


# --- A lost refresh reply (the platform rotated; the new pair never arrived) ------------------


def test_a_lost_refresh_reply_is_asked_again_at_once_and_said_plainly(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.fault("tiktok.token", lost_response=True, times=1)
    outcome = str(account_refresh(account_id=account.pk, force=True))
    assert outcome.startswith("failed: ")
    account.refresh_from_db()
    assert account.state == State.NEEDS_RECONNECT
    assert account.state_reason == refresh_service.LOST_REPLY_REASON
    assert "reply" in account.last_error_message and "Reconnect" in account.last_error_message
    assert [a.outcome for a in AccountAttempt.objects.filter(account=account)] == ["failed"]
    # The check right after doesn't call the account active again.
    account_check(account_id=account.pk)
    account.refresh_from_db()
    assert account.state == State.NEEDS_RECONNECT


def test_a_refresh_whose_first_reply_timed_out_before_acting_succeeds_on_the_second(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.fault("tiktok.token", error="http_504", times=1)  # answered before any rotation
    assert str(account_refresh(account_id=account.pk, force=True)) == "refreshed"
    account.refresh_from_db()
    assert account.state == State.ACTIVE


# --- The bounded reactive refresh (vault.call_with_fresh_bearer) ------------------------------


def test_an_expired_answer_after_a_fresh_token_refreshes_once_then_needs_a_reconnect(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.fault("tiktok.user_info", error="access_token_invalid")  # every time, forever
    before = AuditEvent.objects.count()
    assert str(account_check(account_id=account.pk)) == "error: access_token_invalid"
    account.refresh_from_db()
    assert account.state == State.NEEDS_RECONNECT
    assert "just issued" in account.state_reason
    assert AccountAttempt.objects.filter(account=account, kind="refresh").count() == 1
    actions = list(
        AuditEvent.objects.filter(pk__gt=0).order_by("id").values_list("action", flat=True)
    )[before:]
    assert actions.count("connection.needs_reconnect") == 1
    assert "connection.refreshed" not in actions


@pytest.mark.django_db
def test_call_with_fresh_bearer_never_refreshes_twice(client_obj):
    account = LinkedAccountFactory(client=client_obj)
    CredentialFactory(account=account)
    expired = PlatformError(
        platform="tiktok",
        category=Category.AUTH,
        code="access_token_invalid",
        message="expired",
        auth_reason=AuthReason.EXPIRED,
    )
    calls: list[str] = []

    def always_expired(token: str) -> None:
        calls.append(token)
        raise expired

    with (
        mock.patch.object(
            refresh_service, "account_refresh", return_value=outcomes.refreshed()
        ) as refreshed,
        pytest.raises(PlatformError) as raised,
    ):
        vault.call_with_fresh_bearer(account, always_expired)
    assert refreshed.call_count == 1 and len(calls) == 2
    assert raised.value.auth_reason is None  # no caller refreshes again
    account.refresh_from_db()
    assert account.state == State.NEEDS_RECONNECT


@pytest.mark.django_db
def test_a_refresh_that_pushes_the_deadline_away_ends_the_expiring_episode(client_obj):
    account = LinkedAccountFactory(
        client=client_obj, platform="instagram", expiring_notified_at=timezone.now()
    )
    CredentialFactory(
        account=account,
        expires_in=5 * DAY,
        refresh=None,
        obtained_at=timezone.now() - timedelta(days=55),
    )
    renewed = TokenSet(access_token="IGQ.renewed", expires_in=60 * DAY)
    with mock.patch.object(provider_for("instagram"), "refresh", return_value=renewed):
        assert str(account_refresh(account_id=account.pk, force=True)) == "refreshed"
    account.refresh_from_db()
    assert account.expiring_notified_at is None
