"""PLATFORMS §4 failure modes, each produced by the sandbox on the platform side and noticed by
our health check or refresh: the account ends in the right state, reason and capability."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.connections import vault
from apps.connections.models import Capability, Credential, LinkedAccount, State, StateChange
from apps.connections.services.failure_policy import account_apply_error
from apps.connections.services.health import account_check
from apps.connections.services.refresh import account_refresh
from apps.platforms.errors import PlatformError
from apps.platforms.tiktok import client as tiktok
from tests.connections.helpers import connect

pytestmark = pytest.mark.django_db(transaction=True)


def fresh(account: LinkedAccount) -> LinkedAccount:
    return LinkedAccount.objects.select_related("credential").get(pk=account.pk)


def reconnect_code(account: LinkedAccount) -> str:
    """The platform error code that moved the account to needs_reconnect (from the audit)."""
    event = AuditEvent.objects.get(action="connection.needs_reconnect", target_id=str(account.pk))
    return event.data["error_code"]


def test_an_expired_tiktok_access_token_is_refreshed_and_the_account_stays_active(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    old_access = vault.access_token_of(fresh(account).credential)
    sandbox.advance(hours=25)
    assert str(account_check(account_id=account.pk)) == "ok"
    account = fresh(account)
    assert account.state == State.ACTIVE and account.last_error_code == ""
    assert account.credential.last_refreshed_at is not None
    assert vault.access_token_of(account.credential) != old_access
    assert not StateChange.objects.filter(account=account).exists()


def test_an_instagram_token_past_60_days_needs_a_reconnect(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "instagram")
    sandbox.advance(days=61)
    assert str(account_check(account_id=account.pk)) == "error: 190/463"
    account = fresh(account)
    assert account.state == State.NEEDS_RECONNECT
    assert "expired" in account.state_reason.lower() or "reconnect" in account.state_reason.lower()
    assert account.last_error_code == "190/463"


def test_an_expired_tiktok_refresh_token_needs_a_reconnect(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.advance(days=366)
    assert str(account_check(account_id=account.pk)).startswith("error:")
    account = fresh(account)
    assert account.state == State.NEEDS_RECONNECT
    assert reconnect_code(account) == "invalid_grant"
    assert account.credential.refresh_failures == 1


def test_a_refresh_token_reused_after_rotation_needs_a_reconnect(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    credential = fresh(account).credential
    stale = (vault.access_token_of(credential), vault.refresh_token_of(credential))
    assert str(account_refresh(account_id=account.pk, force=True)) == "refreshed"
    # A stale copy of the old pair (e.g. restored from a backup) is put back and used.
    Credential.objects.filter(pk=credential.pk).update(
        access_token=vault.crypto.encrypt(stale[0]), refresh_token=vault.crypto.encrypt(stale[1])
    )
    assert str(account_refresh(account_id=account.pk, force=True)) == "failed: invalid_grant"
    account = fresh(account)
    assert account.state == State.NEEDS_RECONNECT
    assert account.last_error_code == "invalid_grant"
    assert "reconnect" in account.state_reason


def test_an_instagram_token_under_a_day_old_is_not_a_failure(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "instagram")
    outcome = str(account_refresh(account_id=account.pk, force=True))
    assert outcome.startswith("skipped: Instagram accepts a refresh from ")
    account = fresh(account)
    assert account.state == State.ACTIVE and account.last_error_code == ""
    assert account.credential.refresh_failures == 0
    assert account.credential.next_refresh_at > timezone.now() + timedelta(hours=23)
    assert str(account_check(account_id=account.pk)) == "ok"


def test_an_instagram_token_the_platform_calls_too_young_is_not_a_failure(
    sandbox, oauth, staff_member, client_obj
):
    """Our clock says a day has passed, the platform's says not (clock skew): Instagram's
    refusal (code 100) must not read as a dead token."""
    account = connect(oauth, staff_member, client_obj, "instagram")
    Credential.objects.filter(account=account).update(
        obtained_at=timezone.now() - timedelta(hours=25)
    )
    outcome = str(account_refresh(account_id=account.pk, force=True))
    assert outcome.startswith("failed:")
    account = fresh(account)
    assert account.state == State.ACTIVE
    # Retried later, not on every sweep.
    assert account.credential.next_refresh_at > timezone.now()


@pytest.mark.parametrize(
    ("platform", "sandbox_account"), [("tiktok", "tt-public"), ("instagram", "ig-business")]
)
def test_it_moves_to_revoked_when_the_app_is_removed(
    sandbox, oauth, staff_member, client_obj, platform, sandbox_account
):
    account = connect(oauth, staff_member, client_obj, platform)
    result = sandbox.action(sandbox_account, "remove_app")
    assert result["delivery"]["status_code"] == 200, result
    # The callback reached our live server and was processed within the request.
    account = fresh(account)
    assert account.state == State.REVOKED_ON_PLATFORM
    assert account.state_reason
    change = StateChange.objects.get(account=account)
    assert change.actor_label == f"webhook:{platform}"
    assert str(account_check(account_id=account.pk)) == "skipped: account is revoked_on_platform"


@pytest.mark.parametrize(
    ("platform", "sandbox_account", "code"),
    [("instagram", "ig-business", "190/460"), ("tiktok", "tt-public", "invalid_grant")],
)
def test_a_changed_password_needs_a_reconnect(
    sandbox, oauth, staff_member, client_obj, platform, sandbox_account, code
):
    account = connect(oauth, staff_member, client_obj, platform)
    sandbox.action(sandbox_account, "change_password")
    assert str(account_check(account_id=account.pk)).startswith("error:")
    account = fresh(account)
    assert account.state == State.NEEDS_RECONNECT
    assert reconnect_code(account) == code
    assert account.publish_capability == Capability.OK


def test_a_checkpoint_needs_a_reconnect_and_restricts_posting(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "instagram")
    sandbox.action("ig-business", "checkpoint")
    assert str(account_check(account_id=account.pk)) == "error: 190/459"
    account = fresh(account)
    assert account.state == State.NEEDS_RECONNECT
    assert account.publish_capability == Capability.POSTING_RESTRICTED
    assert account.capability_reason == account.state_reason != ""


def test_a_removed_scope_needs_a_reconnect_with_missing_scope(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.fault("tiktok.user_info", error="scope_not_authorized")
    assert str(account_check(account_id=account.pk)) == "error: scope_not_authorized"
    account = fresh(account)
    assert account.state == State.NEEDS_RECONNECT
    assert account.publish_capability == Capability.MISSING_SCOPE


def _publish_path_error(account: LinkedAccount) -> PlatformError:
    """What the publish pipeline meets first: TikTok's creator_info query with the stored token."""
    with pytest.raises(PlatformError) as raised:
        vault.call_with_bearer(account, lambda token: tiktok.query_creator_info(access_token=token))
    return raised.value


def test_a_ban_from_posting_restricts_posting_and_keeps_the_account_active(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.action("tt-public", "ban_posting")
    # The identity probe can't see a posting ban: the token is fine.
    assert str(account_check(account_id=account.pk)) == "ok"
    error = _publish_path_error(account)
    assert error.code == "spam_risk_user_banned_from_posting"
    account_apply_error(account=fresh(account), error=error, during="publish")
    account = fresh(account)
    assert account.state == State.ACTIVE
    assert account.publish_capability == Capability.POSTING_RESTRICTED
    assert str(account_check(account_id=account.pk)) == "ok"
    assert fresh(account).publish_capability == Capability.POSTING_RESTRICTED


def test_a_daily_cap_sets_quota_exhausted_until_tomorrow(sandbox, oauth, staff_member, client_obj):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.action("tt-public", "exhaust_quota")
    error = _publish_path_error(account)
    assert error.code == "spam_risk_too_many_posts"
    account_apply_error(account=fresh(account), error=error, during="publish")
    account = fresh(account)
    assert account.state == State.ACTIVE
    assert account.publish_capability == Capability.QUOTA_EXHAUSTED
    assert account.capability_until > timezone.now() + timedelta(hours=23)


def test_throttling_during_a_check_changes_no_state_and_records_the_error(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.fault("tiktok.user_info", error="rate_limit_exceeded")
    assert str(account_check(account_id=account.pk)) == "error: rate_limit_exceeded"
    account = fresh(account)
    assert account.state == State.ACTIVE
    assert account.last_error_code == "rate_limit_exceeded"
    assert "throttling" in account.last_error_message
    assert account.last_checked_at is not None
    sandbox.clear_faults()
    assert str(account_check(account_id=account.pk)) == "ok"
    assert fresh(account).last_error_code == ""


def test_throttling_during_a_refresh_backs_off_then_recovers(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.fault(
        "tiktok.token",
        http_status=429,
        body={"error": "rate_limit_exceeded", "error_description": "slow down", "log_id": "x"},
    )
    assert str(account_refresh(account_id=account.pk, force=True)) == "failed: rate_limit_exceeded"
    account = fresh(account)
    assert account.state == State.REFRESH_FAILING
    assert account.credential.refresh_failures == 1
    retry_at = account.credential.next_refresh_at
    assert retry_at > timezone.now()
    sandbox.clear_faults()
    assert str(account_refresh(account_id=account.pk)) == "skipped: not due"
    with time_machine.travel(retry_at + timedelta(seconds=1)):
        assert str(account_refresh(account_id=account.pk)) == "refreshed"
    account = fresh(account)
    assert account.state == State.ACTIVE
    assert account.credential.refresh_failures == 0
    assert [(c.from_state, c.to_state) for c in StateChange.objects.order_by("id")] == [
        ("active", "refresh_failing"),
        ("refresh_failing", "active"),
    ]


def test_an_instagram_account_switched_to_personal_cannot_publish_until_switched_back(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "instagram")
    sandbox.action("ig-business", "make_personal")
    assert str(account_check(account_id=account.pk)) == "ok"
    account = fresh(account)
    assert account.state == State.ACTIVE  # the token is fine (PLATFORMS §4.18)
    assert account.publish_capability == Capability.ACCOUNT_INELIGIBLE
    assert "Switch to professional account" in account.capability_reason
    sandbox.action("ig-business", "make_business")
    assert str(account_check(account_id=account.pk)) == "ok"
    assert fresh(account).publish_capability == Capability.OK
    changes = AuditEvent.objects.filter(
        action="connection.capability_changed", target_id=str(account.pk)
    )
    assert [e.data["to"] for e in changes.order_by("id")] == ["account_ineligible", "ok"]


def test_a_daily_cap_lifts_once_its_window_has_passed(sandbox, oauth, staff_member, client_obj):
    """Instagram: a cap learned from a publishing call, whose probe still shows it full."""
    account = connect(oauth, staff_member, client_obj, "instagram")
    sandbox.action("ig-business", "exhaust_quota")
    LinkedAccount.objects.filter(pk=account.pk).update(
        publish_capability=Capability.QUOTA_EXHAUSTED,
        capability_code="quota:9/2207042",
        capability_until=timezone.now() + timedelta(hours=2),
    )
    assert str(account_check(account_id=account.pk)) == "ok"
    assert fresh(account).publish_capability == Capability.QUOTA_EXHAUSTED  # still in the window
    sandbox.action("ig-business", "reset_quota")
    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        assert str(account_check(account_id=account.pk)) == "ok"
    assert fresh(account).publish_capability == Capability.OK
