"""Publishing capability against the sandbox over real HTTP: the health check's capability probe
(TikTok creator info, Instagram publishing limit) finds bans and caps before a post fails, and
every capability problem has a way back (DESIGN §5, apps/connections/services/capability.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.connections.models import Capability, LinkedAccount, State
from apps.connections.selectors import needs_attention
from apps.connections.services.failure_policy import account_apply_error
from apps.connections.services.health import account_check
from apps.platforms.errors import Category, PlatformError
from tests.connections.conftest import staff_client
from tests.connections.helpers import connect

pytestmark = pytest.mark.django_db(transaction=True)


def fresh(account: LinkedAccount) -> LinkedAccount:
    return LinkedAccount.objects.get(pk=account.pk)


def capability_trail(account: LinkedAccount) -> list[str]:
    return [
        e.data["to"]
        for e in AuditEvent.objects.filter(
            action="connection.capability_changed", target_id=str(account.pk)
        ).order_by("id")
    ]


def test_it_finds_a_tiktok_posting_ban_and_lifts_it_after_the_unban(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.action("tt-public", "ban_posting")
    assert str(account_check(account_id=account.pk)) == "ok"
    account = fresh(account)
    assert account.state == State.ACTIVE  # the token is fine (PLATFORMS §4.11)
    assert account.publish_capability == Capability.POSTING_RESTRICTED
    assert account.capability_code == "permanent:spam_risk_user_banned_from_posting"
    assert "barred" in account.capability_reason
    sandbox.action("tt-public", "unban_posting")
    assert str(account_check(account_id=account.pk)) == "ok"
    account = fresh(account)
    assert account.publish_capability == Capability.OK and account.capability_code == ""
    assert capability_trail(account) == ["posting_restricted", "ok"]


def test_it_records_what_creator_info_says(sandbox, oauth, staff_member, client_obj):
    account = connect(oauth, staff_member, client_obj, "tiktok", account="tt-short")
    assert str(account_check(account_id=account.pk)) == "ok"
    account = fresh(account)
    assert account.capability_checked_at is not None
    assert account.capability_detail["max_video_post_duration_sec"] == 60
    assert "SELF_ONLY" in account.capability_detail["privacy_level_options"]
    assert "Only me" in account.capability_detail["privacy_labels"]
    assert "token" not in str(account.capability_detail).lower()


def test_it_finds_a_tiktok_daily_cap_and_lifts_it_when_creator_info_clears(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.action("tt-public", "exhaust_quota")
    assert str(account_check(account_id=account.pk)) == "ok"
    account = fresh(account)
    assert account.publish_capability == Capability.QUOTA_EXHAUSTED
    assert account.capability_until is not None and account.capability_until > timezone.now()
    sandbox.action("tt-public", "reset_quota")
    assert str(account_check(account_id=account.pk)) == "ok"
    assert fresh(account).publish_capability == Capability.OK


def test_it_finds_a_used_up_instagram_quota_with_its_end_and_looks_again_then(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "instagram")
    sandbox.action("ig-business", "exhaust_quota")
    before = timezone.now()
    assert str(account_check(account_id=account.pk)) == "ok"
    account = fresh(account)
    assert account.publish_capability == Capability.QUOTA_EXHAUSTED
    assert account.capability_detail["quota_total"] == account.capability_detail["quota_usage"]
    # Until at most one rolling window from now; the next check comes right after it.
    assert before + timedelta(hours=23) < account.capability_until
    assert account.capability_until <= timezone.now() + timedelta(hours=24)
    assert account.next_check_at <= account.capability_until + timedelta(minutes=1)
    sandbox.action("ig-business", "reset_quota")
    assert str(account_check(account_id=account.pk)) == "ok"
    account = fresh(account)
    assert account.publish_capability == Capability.OK and account.capability_until is None


def test_a_cleared_checkpoint_and_a_reconnect_restore_publishing(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "instagram")
    sandbox.action("ig-business", "checkpoint")
    assert str(account_check(account_id=account.pk)) == "error: 190/459"
    account = fresh(account)
    assert account.state == State.NEEDS_RECONNECT
    assert account.publish_capability == Capability.POSTING_RESTRICTED
    # The owner signs in on the consent page (which clears the checkpoint) and reconnects.
    response = oauth(staff_client(staff_member), client_obj, "instagram", reconnect=account)
    assert response.status_code == 302
    # Signing in through consent cleared the checkpoint: the reconnect itself lifts it, and the
    # check it schedules for the next sweep confirms.
    assert fresh(account).publish_capability == Capability.OK
    assert fresh(account).next_check_at <= timezone.now()
    assert str(account_check(account_id=account.pk)) == "ok"
    account = fresh(account)
    assert account.state == State.ACTIVE
    assert account.publish_capability == Capability.OK
    assert account not in needs_attention(user=staff_member)


def test_an_instagram_restriction_is_tested_again_once_its_window_passes(
    sandbox, oauth, staff_member, client_obj
):
    """Instagram's probes can't see 25/2207050: it is kept for a day, then tested again."""
    account = connect(oauth, staff_member, client_obj, "instagram")
    restricted = PlatformError(
        platform="instagram",
        category=Category.PERMANENT,
        code="25/2207050",
        message="Instagram restricted this account.",
    )
    account_apply_error(account=fresh(account), error=restricted, during="publish")
    assert str(account_check(account_id=account.pk)) == "ok"
    assert fresh(account).publish_capability == Capability.POSTING_RESTRICTED
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert str(account_check(account_id=account.pk)) == "ok"
    assert fresh(account).publish_capability == Capability.OK


def test_a_grant_without_the_publish_scope_is_not_probed_and_a_full_grant_restores_it(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(
        oauth, staff_member, client_obj, "tiktok", scopes=("user.info.basic", "user.info.profile")
    )
    assert fresh(account).publish_capability == Capability.MISSING_SCOPE
    # Creator info needs video.publish: asking would answer scope_not_authorized and wrongly
    # send a healthy account to needs_reconnect.
    assert str(account_check(account_id=account.pk)) == "ok"
    account = fresh(account)
    assert account.state == State.ACTIVE and account.publish_capability == Capability.MISSING_SCOPE
    assert account.capability_checked_at is None
    response = oauth(staff_client(staff_member), client_obj, "tiktok", reconnect=account)
    assert response.status_code == 302
    assert fresh(account).publish_capability == Capability.OK


def test_an_unaudited_app_can_publish_again_to_a_private_tiktok_account(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    unaudited = PlatformError(
        platform="tiktok",
        category=Category.PERMANENT,
        code="unaudited_client_can_only_post_to_private_accounts",
        message="Switchboard's TikTok app is not audited yet.",
    )
    account_apply_error(account=fresh(account), error=unaudited, during="publish")
    assert str(account_check(account_id=account.pk)) == "ok"
    assert fresh(account).publish_capability == Capability.ACCOUNT_INELIGIBLE  # still public
    sandbox.action("tt-public", "make_private")
    assert str(account_check(account_id=account.pk)) == "ok"
    assert fresh(account).publish_capability == Capability.OK


def test_an_unknown_capability_becomes_known_at_the_first_check(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "instagram")
    LinkedAccount.objects.filter(pk=account.pk).update(publish_capability=Capability.UNKNOWN)
    assert str(account_check(account_id=account.pk)) == "ok"
    assert fresh(account).publish_capability == Capability.OK
