"""What the composer learns about each account: state and capability from our records, creator
info and posts left from the platforms (through the vault), and how a page's answers come back."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.connections.models import Capability, State
from apps.publishing import accounts
from apps.publishing.preflight import Severity
from tests.factories import ClientFactory, LinkedAccountFactory
from tests.publishing.fakes import instagram_account, tiktok_account

pytestmark = pytest.mark.django_db


def test_tiktok_creator_info_is_asked_with_the_accounts_own_token(platforms, client_obj):
    account = tiktok_account(platforms, client_obj, max_video_post_duration_sec=60)
    check = accounts.check_accounts([account])[account.pk]
    assert check.problem is None
    assert check.creator.nickname == "Northwind Coffee Official"
    assert check.creator.max_video_post_duration_sec == 60
    assert check.creator.privacy_level_options[0] == "PUBLIC_TO_EVERYONE"
    assert check.creator.avatar_url.startswith("https://")


@pytest.mark.parametrize(
    "code",
    ["spam_risk_too_many_posts", "spam_risk_user_banned_from_posting", "reached_active_user_cap"],
)
def test_a_posting_cap_or_ban_is_the_creators_answer_not_a_failure(platforms, client_obj, code):
    account = tiktok_account(platforms, client_obj)
    platforms.creators["act.northwind"] = code
    check = accounts.check_accounts([account])[account.pk]
    assert check.creator.error == code
    assert check.problem is None


def test_a_platform_that_does_not_answer_becomes_a_finding_with_where_to_look(
    platforms, client_obj
):
    tiktok = tiktok_account(platforms, client_obj)
    instagram = instagram_account(platforms, client_obj)
    platforms.down = True
    checks = accounts.check_accounts([tiktok, instagram])
    assert checks[tiktok.pk].creator is None
    assert checks[tiktok.pk].problem.severity == Severity.ERROR  # no creator info, no post
    assert "TikTok didn't answer about @northwind on TikTok" in checks[tiktok.pk].problem.message
    assert checks[tiktok.pk].problem.fix_url == f"/connections/{tiktok.pk}/"
    # Instagram's quota is only advice: not knowing it doesn't stop a post.
    assert checks[instagram.pk].problem.severity == Severity.WARNING


def test_instagram_reports_the_posts_left_in_its_window(platforms, client_obj):
    account = instagram_account(platforms, client_obj, usage=97)
    assert accounts.check_accounts([account])[account.pk].posts_left == 3


def test_accounts_that_cannot_publish_are_not_asked_and_say_why(platforms, client_obj):
    reconnect = LinkedAccountFactory(
        client=client_obj, state=State.NEEDS_RECONNECT, state_reason="Token revoked"
    )
    no_scope = LinkedAccountFactory(
        client=client_obj,
        publish_capability=Capability.MISSING_SCOPE,
        capability_reason="video.publish wasn't granted",
    )
    capped = LinkedAccountFactory(client=client_obj, publish_capability=Capability.QUOTA_EXHAUSTED)
    assert accounts.publish_block(reconnect) == "Needs reconnect: Token revoked"
    assert accounts.publish_block(no_scope) == (
        "Missing publishing permission: video.publish wasn't granted"
    )
    # A used-up daily quota passes with its window: a later post is fine.
    assert accounts.publish_block(capped) == ""
    assert accounts.check_accounts([reconnect, no_scope]) == {}
    assert platforms.calls == []


def test_disconnected_accounts_are_not_offered(client_obj):
    live = LinkedAccountFactory(client=client_obj)
    LinkedAccountFactory(client=client_obj, state=State.DISCONNECTED)
    LinkedAccountFactory(client=client_obj, state=State.DISCONNECT_PENDING)
    LinkedAccountFactory(client=ClientFactory())
    assert accounts.composer_accounts(client=client_obj) == [live]


def test_sealed_answers_open_only_for_their_client_untouched_and_fresh(
    platforms, client_obj, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    account = tiktok_account(platforms, client_obj)
    checks = accounts.check_accounts([account])
    sealed = accounts.seal_checks(client=client_obj, checks=checks)
    assert accounts.open_checks(sealed, client=client_obj) == checks
    assert accounts.open_checks(sealed[:-2] + "xx", client=client_obj) == {}
    assert accounts.open_checks(sealed, client=ClientFactory()) == {}
    time_machine.shift(accounts.CHECKS_MAX_AGE_S + 1)
    assert accounts.open_checks(sealed, client=client_obj) == {}
