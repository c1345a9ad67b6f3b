"""The accounts a post can go to, and what their platforms say about them right now.

`composer_accounts()` is the read: a client's accounts that still hold their platform identity,
each able to publish or not (with why). `check_accounts()` asks the platforms, through the
connections vault, what preflight needs per account (DESIGN §6): TikTok's creator info (PLATFORMS
§1.6(a), which §1.11 rule 1 requires before every Direct Post) and Instagram's posts left in its
rolling 24 h (§2.7 step 5). A failed call becomes a finding a person can act on, never an
exception for the page.

Nothing is kept in process memory. A page hands the answers it showed back to the next request
as a signed, short-lived form field (`seal_checks`/`open_checks`), so live preflight while typing
doesn't spend TikTok's 20 creator-info calls per minute; scheduling asks again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.core import signing
from django.urls import reverse

from apps.clients.models import Client
from apps.connections import vault
from apps.connections.models import CLOSED_STATES, Capability, LinkedAccount, State
from apps.platforms.errors import PlatformError
from apps.platforms.instagram import client as instagram
from apps.platforms.tiktok import client as tiktok
from apps.platforms.tiktok import rules as tiktok_rules
from apps.platforms.tiktok import types as tiktok_types
from apps.platforms.types import Platform
from apps.publishing.preflight import AccountContext, CreatorInfo, Finding, Severity

logger = logging.getLogger(__name__)

# States whose tokens still work (a failing refresh is retried while the token lives).
PUBLISHING_STATES = frozenset({State.ACTIVE, State.REFRESH_FAILING})
# Capabilities that stop a post whatever its time. A used-up daily quota is not one: it passes
# with its window, and the live check below reports it.
BLOCKING_CAPABILITIES = frozenset(
    {Capability.MISSING_SCOPE, Capability.POSTING_RESTRICTED, Capability.ACCOUNT_INELIGIBLE}
)
# How long the answers a page showed may be reused for live preflight.
CHECKS_MAX_AGE_S = 10 * 60
_SEAL_SALT = "publishing.composer.account-checks"


def composer_accounts(*, client: Client) -> list[LinkedAccount]:
    """The client's accounts a post could name: every one not disconnected (or being so)."""
    return list(
        LinkedAccount.objects.filter(client=client)
        .exclude(state__in=CLOSED_STATES)
        .order_by("platform", "handle", "pk")
    )


def publish_block(account: LinkedAccount) -> str:
    """Why the account can't take a post, in words; "" when it can (state and capability)."""
    if account.state not in PUBLISHING_STATES:
        reason = account.state_reason or "reconnect it to publish again"
        return f"{account.get_state_display()}: {reason}"
    if account.publish_capability in BLOCKING_CAPABILITIES:
        reason = account.capability_reason or "the platform doesn't let it publish"
        return f"{account.get_publish_capability_display()}: {reason}"
    return ""


def account_label(account: LinkedAccount) -> str:
    return f"@{account.handle or account.external_id} on {account.get_platform_display()}"


@dataclass(frozen=True)
class AccountCheck:
    """What the platform said about one account just now; `problem` when it couldn't say."""

    creator: CreatorInfo | None = None  # TikTok
    posts_left: int | None = None  # Instagram
    problem: Finding | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "creator": asdict(self.creator) if self.creator else None,
            "posts_left": self.posts_left,
            "problem": self.problem.to_dict() if self.problem else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccountCheck:
        creator = data.get("creator")
        problem = data.get("problem")
        return cls(
            creator=CreatorInfo(
                **{**creator, "privacy_level_options": tuple(creator["privacy_level_options"])}
            )
            if creator
            else None,
            posts_left=data.get("posts_left"),
            problem=Finding.from_dict(problem) if problem else None,
        )


def account_context(account: LinkedAccount, check: AccountCheck | None) -> AccountContext:
    """The account as preflight sees it."""
    block = publish_block(account)
    check = check or AccountCheck()
    return AccountContext(
        platform=Platform(account.platform),
        label=account_label(account),
        can_publish=not block,
        blocked_reason=block,
        reconnect_url=reverse("connections:account", kwargs={"pk": account.pk}),
        creator=check.creator,
        posts_left=check.posts_left,
    )


def _unreachable(account: LinkedAccount, why: str, *, severity: Severity) -> Finding:
    return Finding(
        platform=account.platform,
        rule="account.unreachable",
        severity=severity,
        message=f"{account.get_platform_display()} didn't answer about "
        f"{account_label(account)}: {why.rstrip('.')}.",
        fix="Try again in a minute; if it keeps failing, check the account page.",
        fix_url=reverse("connections:account", kwargs={"pk": account.pk}),
    )


def _check_tiktok(account: LinkedAccount) -> AccountCheck:
    """Creator info (§1.6(a)). A posting cap or ban arrives as an error: it is the answer."""
    try:
        info = vault.call_with_fresh_bearer(
            account, lambda token: tiktok.query_creator_info(access_token=token)
        )
    except vault.NoCredential:
        why = "no stored authorization; reconnect the account"
        return AccountCheck(problem=_unreachable(account, why, severity=Severity.ERROR))
    except PlatformError as error:
        if error.code in tiktok_rules.POSTING_BLOCK_CODES:
            return AccountCheck(
                creator=CreatorInfo(
                    nickname=account.display_name,
                    avatar_url=account.avatar_url,
                    error=error.code,
                )
            )
        logger.info("creator_info failed for account %s: %s", account.pk, error)
        # Without creator info TikTok doesn't let us post at all (§1.11 rule 1).
        return AccountCheck(problem=_unreachable(account, error.message, severity=Severity.ERROR))
    return creator_check(info)


def creator_check(info: tiktok_types.CreatorInfo) -> AccountCheck:
    """What creator info says, as preflight reads it (the composer's check and the due-time
    one)."""
    return AccountCheck(
        creator=CreatorInfo(
            nickname=info.nickname,
            avatar_url=info.avatar_url,
            privacy_level_options=info.privacy_level_options,
            comment_disabled=info.comment_disabled,
            duet_disabled=info.duet_disabled,
            stitch_disabled=info.stitch_disabled,
            max_video_post_duration_sec=info.max_video_post_duration_sec,
        )
    )


def _check_instagram(account: LinkedAccount) -> AccountCheck:
    """Posts left in the rolling window (§2.7 step 5); unknown is a warning, not a refusal."""
    try:
        limit = vault.call_with_fresh_bearer(
            account,
            lambda token: instagram.get_publishing_limit(
                access_token=token, ig_user_id=account.external_id
            ),
        )
    except vault.NoCredential:
        why = "no stored authorization; reconnect the account"
        return AccountCheck(problem=_unreachable(account, why, severity=Severity.ERROR))
    except PlatformError as error:
        logger.info("publishing limit failed for account %s: %s", account.pk, error)
        return AccountCheck(problem=_unreachable(account, error.message, severity=Severity.WARNING))
    return AccountCheck(posts_left=limit.remaining)


PLATFORM_CHECKS: dict[Platform, Callable[[LinkedAccount], AccountCheck]] = {
    Platform.TIKTOK: _check_tiktok,
    Platform.INSTAGRAM: _check_instagram,
}


def check_accounts(
    accounts: Iterable[LinkedAccount],
    *,
    known: Mapping[int, AccountCheck] | None = None,
    fresh: Iterable[int] = (),
) -> dict[int, AccountCheck]:
    """One platform answer per account that can publish: reused from `known` unless its id is
    in `fresh` (or it isn't known), asked otherwise. Accounts that can't publish aren't asked.
    Runs outside any transaction (platform calls)."""
    known = known or {}
    fresh_ids = set(fresh)
    checks: dict[int, AccountCheck] = {}
    for account in accounts:
        if publish_block(account):
            continue
        if account.pk in known and account.pk not in fresh_ids:
            checks[account.pk] = known[account.pk]
        else:
            checks[account.pk] = PLATFORM_CHECKS[Platform(account.platform)](account)
    return checks


def seal_checks(*, client: Client, checks: Mapping[int, AccountCheck]) -> str:
    """The answers as a signed form value, bound to the client (no secrets are in them). A
    platform that didn't answer isn't sealed: the next request asks it again."""
    answered = {str(k): v.to_dict() for k, v in checks.items() if v.problem is None}
    payload = {"client": client.pk, "checks": answered}
    return signing.dumps(payload, salt=_SEAL_SALT, compress=True)


def open_checks(value: str, *, client: Client) -> dict[int, AccountCheck]:
    """The answers a page sealed, or {} when missing, tampered with, stale or another client's."""
    if not value:
        return {}
    try:
        payload = signing.loads(value, salt=_SEAL_SALT, max_age=CHECKS_MAX_AGE_S)
        if payload.get("client") != client.pk:
            return {}
        return {int(k): AccountCheck.from_dict(v) for k, v in payload["checks"].items()}
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError):
        return {}
