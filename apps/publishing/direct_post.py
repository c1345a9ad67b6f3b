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
from apps.publishing.preflight import CreatorInfo
from apps.publishing.probe import MediaProbe

# Option keys of a TikTok target (PublishTarget.options; apps/publishing/options.py parses them).
PRIVACY_LEVEL = "privacy_level"
ALLOW_COMMENT = "allow_comment"
ALLOW_DUET = "allow_duet"
ALLOW_STITCH = "allow_stitch"
DISCLOSE_COMMERCIAL = "disclose_commercial"
BRAND_ORGANIC = "brand_organic"  # "Your brand"
BRAND_CONTENT = "brand_content"  # "Branded content"
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


def privacy_label(level: str) -> str:
    return tiktok_rules.PRIVACY_LABELS.get(level, level.replace("_", " ").capitalize())


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
    """The options as stored: every switch a bool, brand choices only under a disclosure."""
    disclose = bool(options.get(DISCLOSE_COMMERCIAL))
    return {
        PRIVACY_LEVEL: str(options.get(PRIVACY_LEVEL) or ""),
        ALLOW_COMMENT: bool(options.get(ALLOW_COMMENT)),
        ALLOW_DUET: bool(options.get(ALLOW_DUET)),
        ALLOW_STITCH: bool(options.get(ALLOW_STITCH)),
        DISCLOSE_COMMERCIAL: disclose,
        BRAND_ORGANIC: disclose and bool(options.get(BRAND_ORGANIC)),
        BRAND_CONTENT: disclose and bool(options.get(BRAND_CONTENT)),
    }


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
    """{option key or "" for the target as a whole: why it is refused}; empty when allowed."""
    blocked = creator_problem(creator)
    if blocked or creator is None:
        return {"": blocked}
    problems: dict[str, str] = {}
    privacy = str(options.get(PRIVACY_LEVEL) or "")
    if not privacy:
        problems[PRIVACY_LEVEL] = (
            "Choose who can see this post: TikTok requires a person to pick it for every post."
        )
    elif privacy not in creator.privacy_level_options:
        offered = ", ".join(f"“{privacy_label(o)}”" for o in creator.privacy_level_options)
        problems[PRIVACY_LEVEL] = (
            f"TikTok doesn't offer “{privacy_label(privacy)}” for this account; choose one of "
            f"{offered}."
        )
    for key, flag, name in INTERACTIONS:
        if options.get(key) and getattr(creator, flag):
            problems[key] = (
                f"{name} are turned off for this account in TikTok, so they can't be allowed here."
            )
    disclose = bool(options.get(DISCLOSE_COMMERCIAL))
    organic, branded = bool(options.get(BRAND_ORGANIC)), bool(options.get(BRAND_CONTENT))
    if disclose and not (organic or branded):
        problems[DISCLOSE_COMMERCIAL] = (
            "You turned on commercial content disclosure: tick “Your brand”, “Branded content” "
            "or both, or turn the disclosure off."
        )
    if disclose and branded and privacy == tiktok_rules.PRIVATE_PRIVACY_LEVEL:
        problems.setdefault(PRIVACY_LEVEL, BRANDED_NOT_PRIVATE)
    return problems
