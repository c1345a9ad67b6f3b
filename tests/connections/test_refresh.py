"""Proactive refresh: which accounts are due, the sweep's task payloads, and rotation safety —
including two real worker processes refreshing one account at once on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.connections import tasks, vault
from apps.connections.models import Credential, LinkedAccount, State
from apps.connections.services.health import account_check
from apps.connections.services.refresh import account_refresh, accounts_due_for_refresh
from apps.platforms.errors import PlatformError
from apps.platforms.tiktok import client as tiktok
from tests.connections.helpers import captured_tasks, connect, make_account, store_tokens

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
    due = make_account(client_obj, external_id="due")
    store_tokens(due)
    failing = make_account(client_obj, external_id="failing", state=State.REFRESH_FAILING)
    store_tokens(failing)
    later = make_account(client_obj, external_id="later")
    store_tokens(later)
    broken = make_account(client_obj, external_id="broken", state=State.NEEDS_RECONNECT)
    store_tokens(broken)
    make_account(client_obj, external_id="no-credential")
    Credential.objects.filter(account__in=[due, broken]).update(
        next_refresh_at=now - timedelta(minutes=1)
    )
    Credential.objects.filter(account=failing).update(next_refresh_at=now - timedelta(hours=1))
    Credential.objects.filter(account=later).update(next_refresh_at=now + timedelta(minutes=5))
    assert accounts_due_for_refresh() == [failing.pk, due.pk]
    assert accounts_due_for_refresh(limit=1) == [failing.pk]


@pytest.mark.django_db
def test_the_sweep_enqueues_ids_only(client_obj, django_capture_on_commit_callbacks):
    account = make_account(client_obj, next_check_at=timezone.now() - timedelta(minutes=1))
    store_tokens(account)
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


@pytest.mark.django_db
def test_a_claimed_refresh_keeps_other_workers_away(client_obj):
    account = make_account(client_obj)
    store_tokens(account)
    Credential.objects.filter(account=account).update(
        refresh_claimed_until=timezone.now() + timedelta(minutes=1)
    )
    assert account_refresh(account_id=account.pk, force=True) == (
        "skipped: another refresh is in progress"
    )


@pytest.mark.django_db(transaction=True)
def test_a_rotated_pair_is_committed_and_the_old_refresh_token_is_refused(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    old_access, old_refresh = stored_pair(account)
    assert account_refresh(account_id=account.pk, force=True) == "refreshed"
    new_access, new_refresh = stored_pair(account)
    assert (new_access, new_refresh) != (old_access, old_refresh)
    credential = Credential.objects.get(account=account)
    assert credential.last_refreshed_at is not None and credential.refresh_claimed_until is None
    assert credential.next_refresh_at == credential.access_expires_at - timedelta(hours=2)
    # The platform now refuses the old refresh token and accepts the stored pair.
    with pytest.raises(PlatformError) as refused:
        tiktok.refresh_tokens(refresh_token=old_refresh)
    assert refused.value.code == "invalid_grant"
    assert live_refresh_tokens(sandbox) == [new_refresh[:8] + "…"]
    assert account_check(account_id=account.pk) == "ok"
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
    assert account_refresh(account_id=account.pk) == "refreshed"
    after = Credential.objects.get(account=account)
    assert after.access_expires_at > timezone.now() + timedelta(days=59)
    assert after.next_refresh_at > timezone.now() + timedelta(days=6)
    assert account_check(account_id=account.pk) == "ok"


# --- Two workers, one account (PostgreSQL) ---------------------------------------------------

WORKER = """
import os, sys, time
import django
django.setup()
from apps.connections.services.refresh import account_refresh
start_at = float(os.environ["START_AT"])
time.sleep(max(0.0, start_at - time.time()))
print(account_refresh(account_id=int(sys.argv[1]), force=True))
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
    assert account_check(account_id=account.pk) == "ok"
