"""Each platform's account and option rules: one function per platform, found through the
registry in run.py (no `if platform == …` elsewhere)."""

from __future__ import annotations

from apps.platforms.tiktok import errors as tiktok_errors
from apps.platforms.tiktok import rules as tiktok_rules
from apps.publishing import options as opts
from apps.publishing.preflight.limits import INSTAGRAM, TIKTOK, PlatformLimits
from apps.publishing.preflight.media import DurationCap, clock
from apps.publishing.preflight.table import finding
from apps.publishing.preflight.types import AccountContext, Finding, TargetInput
from apps.publishing.probe import MediaProbe

# What to do about a creator_info error (PLATFORMS §1.6(a), §1.6(h)); the error table's own
# sentence says what happened.
CREATOR_ERROR_FIXES = {
    "spam_risk_too_many_posts": (
        "Schedule it for tomorrow — TikTok allows about "
        f"{tiktok_rules.CREATOR_DIRECT_POSTS_PER_DAY} posts a day per account."
    ),
    "spam_risk_user_banned_from_posting": "The account owner must resolve it in the TikTok app.",
    "reached_active_user_cap": "Try again tomorrow, or ask an administrator to raise the cap.",
}


def _reconnect(limits: PlatformLimits, account: AccountContext) -> list[Finding]:
    if account.can_publish:
        return []
    reason = f": {account.blocked_reason.rstrip('.')}." if account.blocked_reason else "."
    return [
        finding(
            "account.reconnect",
            limits.platform,
            f"{account.label} can't publish right now{reason}",
            "Reconnect",
            fix_url=account.reconnect_url,
            account=account.label,
        )
    ]


def _problems(
    limits: PlatformLimits, account: AccountContext, problems: list[opts.OptionProblem]
) -> list[Finding]:
    return [
        finding(p.rule, limits.platform, p.message, p.fix, account=account.label) for p in problems
    ]


def tiktok_duration_cap(account: AccountContext) -> DurationCap:
    """The creator's own cap from creator_info, within what the API accepts (§1.6(a), (g))."""
    creator = account.creator
    api_max = TIKTOK.video.max_duration_s
    if creator is not None and creator.max_video_post_duration_sec:
        seconds = min(float(creator.max_video_post_duration_sec), api_max)
        return DurationCap(
            seconds, f"this TikTok account allows up to {seconds:g} s", account=account.label
        )
    seconds = min(float(tiktok_rules.DEFAULT_CREATOR_MAX_DURATION_S), api_max)
    return DurationCap(
        seconds,
        f"TikTok allows up to {seconds:g} s unless the account is allowed more",
        account=account.label,
    )


def instagram_duration_cap(account: AccountContext) -> DurationCap:
    seconds = INSTAGRAM.video.max_duration_s
    return DurationCap(seconds, f"Instagram allows up to {seconds:g} s ({clock(seconds)})")


def tiktok_target_findings(target: TargetInput, probe: MediaProbe | None) -> list[Finding]:
    account, creator = target.account, target.account.creator
    found = _reconnect(TIKTOK, account)
    if creator is None and account.can_publish:
        found.append(
            finding(
                "creator.unavailable",
                TIKTOK.platform,
                f"Couldn't load the posting options of {account.label} from TikTok.",
                "Try again in a minute — TikTok requires them before every post.",
                account=account.label,
            )
        )
    if creator is not None and creator.error:
        row = tiktok_errors.row_for(creator.error)
        found.append(
            finding(
                "creator.cannot_post",
                TIKTOK.platform,
                f"{account.label}: {row.message}",
                CREATOR_ERROR_FIXES.get(creator.error, "Try again later."),
                account=account.label,
            )
        )
    try:
        options = opts.parse_tiktok(target.options)
    except opts.InvalidOptions as exc:
        return found + _problems(TIKTOK, account, exc.problems)
    return found + _problems(TIKTOK, account, opts.check_tiktok(options, creator))


def instagram_target_findings(target: TargetInput, probe: MediaProbe | None) -> list[Finding]:
    account = target.account
    found = _reconnect(INSTAGRAM, account)
    if account.posts_left is not None and account.posts_left <= 0:
        found.append(
            finding(
                "quota.exhausted",
                INSTAGRAM.platform,
                f"{account.label} has used all the posts Instagram allows in 24 hours.",
                "Schedule it for later — the limit counts the last 24 hours.",
                account=account.label,
            )
        )
    try:
        options = opts.parse_instagram(target.options)
    except opts.InvalidOptions as exc:
        return found + _problems(INSTAGRAM, account, exc.problems)
    duration = probe.duration_s if probe is not None else None
    return found + _problems(INSTAGRAM, account, opts.check_instagram(options, duration_s=duration))
