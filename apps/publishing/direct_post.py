"""TikTok's Direct Post rules that the server enforces whatever the page did (PLATFORMS §1.11).

TikTok audits the posting screen; the screen follows these rules with JavaScript, and the same
rules are checked here on every request that schedules or edits a post, so a request built by
hand (or a page without JavaScript) can't break them: a privacy level a person chose from the
creator's own options, interactions the creator turned off staying off, a disclosure that says
what it discloses, and branded content never private.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.platforms.tiktok import rules as tiktok_rules
from apps.publishing.options import (
    ALLOW_COMMENT,
    ALLOW_DUET,
    ALLOW_STITCH,
    BRAND_CONTENT,
    BRAND_ORGANIC,
    DISCLOSE_COMMERCIAL,
    PRIVACY_LEVEL,
    check_tiktok,
    parse_tiktok,
    privacy_label,
)
from apps.publishing.preflight import CreatorInfo
from apps.publishing.probe import MediaProbe

# The option keys and rules live in apps/publishing/options.py (preflight reads the same ones);
# this module adds what the composer's form needs around them.
DISCLOSURE_KEYS = (DISCLOSE_COMMERCIAL, BRAND_ORGANIC, BRAND_CONTENT)

# (option, the creator_info flag that turns it off, what people call it)
INTERACTIONS: tuple[tuple[str, str, str], ...] = (
    (ALLOW_COMMENT, "comment_disabled", "Comments"),
    (ALLOW_DUET, "duet_disabled", "Duets"),
    (ALLOW_STITCH, "stitch_disabled", "Stitches"),
)

CHOOSE_PRIVACY = "Choose who can see this"
BRANDED_NOT_PRIVATE = (
    "Branded content can't be private: TikTok requires a paid partnership to be visible to "
    "others, so “Only me” isn't available with it."
)

__all__ = [
    "BRANDED_NOT_PRIVATE",
    "CHOOSE_PRIVACY",
    "DISCLOSURE_KEYS",
    "INTERACTIONS",
    "PRIVACY_LEVEL",
    "creator_problem",
    "direct_post_problems",
    "disclosure_label",
    "duration_problem",
    "normalized",
    "privacy_label",
]


def disclosure_label(options: Mapping[str, Any]) -> str:
    """How TikTok will label the post: "Paid partnership", "Promotional content" or ""."""
    if not options.get(DISCLOSE_COMMERCIAL):
        return ""
    if options.get(BRAND_CONTENT):
        return tiktok_rules.PAID_PARTNERSHIP_LABEL
    if options.get(BRAND_ORGANIC):
        return tiktok_rules.PROMOTIONAL_CONTENT_LABEL
    return ""


def normalized(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options as stored: every switch a bool, brand choices only under a disclosure
    (options.parse_tiktok; the form has already refused values of the wrong type)."""
    return parse_tiktok(options).to_dict()


def creator_problem(creator: CreatorInfo | None) -> str:
    """Why nothing can be posted to this creator now (§1.11 rule 1), or ""."""
    if creator is None:
        return (
            "TikTok's creator info for this account couldn't be loaded, and TikTok requires it "
            "before every post. Try again in a minute."
        )
    if creator.error:
        return f"TikTok says this account can't post right now ({creator.error.replace('_', ' ')})."
    return ""


def _minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def duration_problem(creator: CreatorInfo | None, probe: MediaProbe | None) -> str:
    """§1.11 rule 1: a video longer than this creator may post is refused, or ""."""
    limit = creator.max_video_post_duration_sec if creator else None
    if probe is None or not limit or probe.duration_s <= limit:
        return ""
    return (
        f"the video is {_minutes(probe.duration_s)} long and this creator can post up to "
        f"{_minutes(limit)}; trim it or choose a shorter video."
    )


def direct_post_problems(options: Mapping[str, Any], creator: CreatorInfo | None) -> dict[str, str]:
    """{option key or "" for the target as a whole: why it is refused}; empty when allowed.
    The rules are options.check_tiktok's, the ones preflight reports."""
    blocked = creator_problem(creator)
    if blocked or creator is None:
        return {"": blocked}
    problems: dict[str, str] = {}
    for problem in check_tiktok(parse_tiktok(options), creator):
        problems.setdefault(problem.field, f"{problem.message} {problem.fix}".strip())
    return problems
