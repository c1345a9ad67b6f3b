"""A PublishTarget's per-platform options (DESIGN §4): their keys, types and rules.

The composer's form validation and preflight both read options through these functions, so a
post the form accepts is one preflight accepts, and the key names live here only.

- `parse_tiktok` / `parse_instagram`: stored JSON or form values → typed options; a value of
  the wrong type raises InvalidOptions (one OptionProblem per field).
- `check_tiktok` / `check_instagram`: the rules that need the account or the video (TikTok's
  creator info, the video's duration) → OptionProblems, each naming its field and the
  preflight rule code it becomes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from apps.platforms.tiktok.rules import PRIVACY_LABELS

if TYPE_CHECKING:
    from apps.publishing.preflight import CreatorInfo

# TikTok Direct Post `post_info` (PLATFORMS §1.6(b)) as the composer shows it (§1.11).
PRIVACY_LEVEL = "privacy_level"  # one of creator_info's privacy_level_options; no default
ALLOW_COMMENT = "allow_comment"  # → disable_comment = not allow_comment
ALLOW_DUET = "allow_duet"
ALLOW_STITCH = "allow_stitch"
DISCLOSE_COMMERCIAL = "disclose_commercial"  # the commercial content disclosure toggle
BRAND_ORGANIC = "brand_organic"  # "Your brand" → brand_organic_toggle
BRAND_CONTENT = "brand_content"  # "Branded content" → brand_content_toggle
# Instagram Reels container (§2.7 step 1).
SHARE_TO_FEED = "share_to_feed"
COVER_OFFSET_MS = "cover_offset_ms"  # → thumb_offset; None = Instagram's default (0)

SELF_ONLY = "SELF_ONLY"  # TikTok's private level: not allowed with branded content (§1.11(3))

TRUE_WORDS = frozenset({"true", "on", "1", "yes"})
FALSE_WORDS = frozenset({"false", "off", "0", "no", ""})


@dataclass(frozen=True)
class OptionProblem:
    field: str  # the option key a form shows it on
    rule: str  # the preflight rule code (apps/publishing/preflight/table.py)
    message: str
    fix: str = ""


class InvalidOptions(ValueError):
    def __init__(self, problems: list[OptionProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


@dataclass(frozen=True)
class TikTokOptions:
    # §1.11(2): no preselected privacy, interactions off by default; §1.11(3) disclosure off.
    privacy_level: str = ""
    allow_comment: bool = False
    allow_duet: bool = False
    allow_stitch: bool = False
    disclose_commercial: bool = False
    brand_organic: bool = False
    brand_content: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class InstagramOptions:
    share_to_feed: bool = True
    cover_offset_ms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _invalid(field: str, message: str) -> OptionProblem:
    return OptionProblem(field, "options.invalid", message, "Choose the option again.")


def _bool(raw: Mapping[str, Any], key: str, default: bool, problems: list[OptionProblem]) -> bool:
    value = raw.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    problems.append(_invalid(key, f"“{key}” must be on or off, not {value!r}."))
    return default


def _raise_if(problems: list[OptionProblem]) -> None:
    if problems:
        raise InvalidOptions(problems)


def parse_tiktok(raw: Mapping[str, Any]) -> TikTokOptions:
    """Typed TikTok options; unknown keys are ignored. With disclosure off, the brand boxes
    are off too: TikTok gets a brand toggle only when the disclosure toggle is on (§1.11(3))."""
    problems: list[OptionProblem] = []
    privacy = raw.get(PRIVACY_LEVEL)
    if privacy is None:
        privacy = ""
    elif not isinstance(privacy, str):
        problems.append(_invalid(PRIVACY_LEVEL, f"The privacy level {privacy!r} is not valid."))
        privacy = ""
    disclose = _bool(raw, DISCLOSE_COMMERCIAL, False, problems)
    options = TikTokOptions(
        privacy_level=privacy.strip(),
        allow_comment=_bool(raw, ALLOW_COMMENT, False, problems),
        allow_duet=_bool(raw, ALLOW_DUET, False, problems),
        allow_stitch=_bool(raw, ALLOW_STITCH, False, problems),
        disclose_commercial=disclose,
        brand_organic=_bool(raw, BRAND_ORGANIC, False, problems) and disclose,
        brand_content=_bool(raw, BRAND_CONTENT, False, problems) and disclose,
    )
    _raise_if(problems)
    return options


def parse_instagram(raw: Mapping[str, Any]) -> InstagramOptions:
    """Typed Instagram options; unknown keys are ignored."""
    problems: list[OptionProblem] = []
    share = _bool(raw, SHARE_TO_FEED, True, problems)
    value = raw.get(COVER_OFFSET_MS)
    offset: int | None = None
    if isinstance(value, str):
        value = value.strip() or None
        if value is not None and value.lstrip("-").isdigit():
            value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value is None:
        offset = None
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        offset = value
    else:
        problems.append(
            _invalid(COVER_OFFSET_MS, "The cover frame must be a whole number of ms, 0 or more.")
        )
    _raise_if(problems)
    return InstagramOptions(share_to_feed=share, cover_offset_ms=offset)


def privacy_label(level: str) -> str:
    return PRIVACY_LABELS.get(level, level.replace("_", " ").capitalize())


def check_tiktok(options: TikTokOptions, creator: CreatorInfo | None) -> list[OptionProblem]:
    """TikTok's composer rules (PLATFORMS §1.11); the ones that need `creator` are skipped
    when it could not be fetched (preflight reports that separately)."""
    problems: list[OptionProblem] = []
    if not options.privacy_level:
        problems.append(
            OptionProblem(
                PRIVACY_LEVEL,
                "privacy.missing",
                "Choose who can see this TikTok post.",
                "Pick a privacy level — TikTok requires a choice, there is no default.",
            )
        )
    elif creator is not None and options.privacy_level not in creator.privacy_level_options:
        offered = ", ".join(privacy_label(level) for level in creator.privacy_level_options)
        problems.append(
            OptionProblem(
                PRIVACY_LEVEL,
                "privacy.invalid",
                f"“{privacy_label(options.privacy_level)}” is not a privacy level this TikTok "
                "account offers.",
                f"Pick one of: {offered}." if offered else "Pick a privacy level again.",
            )
        )
    if options.brand_content and options.privacy_level == SELF_ONLY:
        problems.append(
            OptionProblem(
                PRIVACY_LEVEL,
                "brand.private",
                "Branded content can't be private on TikTok: a paid partnership must be "
                "visible to others.",
                f"Choose a privacy level other than “{privacy_label(SELF_ONLY)}”, or untick "
                "Branded content.",
            )
        )
    if options.disclose_commercial and not (options.brand_organic or options.brand_content):
        problems.append(
            OptionProblem(
                DISCLOSE_COMMERCIAL,
                "disclosure.incomplete",
                "Commercial content disclosure is on, but neither “Your brand” nor "
                "“Branded content” is ticked.",
                "Tick “Your brand”, “Branded content” or both — or turn the disclosure off.",
            )
        )
    if creator is not None:
        for key, rule, wanted, disabled, what in (
            (
                ALLOW_COMMENT,
                "interaction.comment",
                options.allow_comment,
                creator.comment_disabled,
                "comments",
            ),
            (ALLOW_DUET, "interaction.duet", options.allow_duet, creator.duet_disabled, "duets"),
            (
                ALLOW_STITCH,
                "interaction.stitch",
                options.allow_stitch,
                creator.stitch_disabled,
                "stitches",
            ),
        ):
            if wanted and disabled:
                problems.append(
                    OptionProblem(
                        key,
                        rule,
                        f"This TikTok account has turned {what} off, so this post can't "
                        f"allow {what}.",
                        f"Switch off “Allow {what}”.",
                    )
                )
    return problems


def check_instagram(options: InstagramOptions, *, duration_s: float | None) -> list[OptionProblem]:
    """Instagram's `thumb_offset` must fall inside the video (PLATFORMS §3 "cover");
    unchecked until the video's duration is known."""
    offset = options.cover_offset_ms
    if offset is None or duration_s is None or offset < duration_s * 1000:
        return []
    return [
        OptionProblem(
            COVER_OFFSET_MS,
            "cover.offset",
            f"The cover frame is at {offset / 1000:.1f} s, but the video ends at "
            f"{duration_s:.1f} s.",
            f"Pick a cover frame before {duration_s:.1f} s.",
        )
    ]
