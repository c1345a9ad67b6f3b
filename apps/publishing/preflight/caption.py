"""The caption against one platform's limits (PLATFORMS §1.6(b), §2.7 step 1).

Hashtags and mentions are counted only where a platform limits them: Instagram (≤30 #, ≤20 @).
TikTok states no such limit (its rules module leaves them None), so a TikTok caption is checked
for length only.
"""

from __future__ import annotations

import re

from apps.platforms.rules import utf16_length
from apps.platforms.types import CaptionLimits
from apps.publishing.preflight.limits import PlatformLimits
from apps.publishing.preflight.table import finding
from apps.publishing.preflight.types import Finding

# [judgment] Every "#" followed by a letter, digit or underscore starts a hashtag, even inside
# a word ("#one#two" is two): counting more than Instagram might is the safe side.
HASHTAG = re.compile(r"#\w")
# "@" followed by a username character, unless it follows a word character (an e-mail address).
MENTION = re.compile(r"(?<![\w.])@[A-Za-z0-9._]")


def caption_length(text: str, limits: CaptionLimits) -> int:
    """Length in the platform's unit: UTF-16 code units (TikTok) or characters."""
    return utf16_length(text) if limits.length_unit == "utf16" else len(text)


def count_hashtags(text: str) -> int:
    return len(HASHTAG.findall(text))


def count_mentions(text: str) -> int:
    return len(MENTION.findall(text))


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def caption_findings(limits: PlatformLimits, caption: str) -> list[Finding]:
    """Captions are per platform (CrossPost.caption_overrides), so findings name no account."""
    rules, name, platform = limits.caption, limits.name, limits.platform
    found = []
    size = caption_length(caption, rules)
    if size > rules.max_length:
        utf16 = rules.length_unit == "utf16"
        counted = " as it counts them (an emoji counts as 2)" if utf16 else ""
        found.append(
            finding(
                "caption.length",
                platform,
                f"The caption is {size:,} characters long{counted}; {name} allows "
                f"{rules.max_length:,}.",
                f"Shorten the caption by {_plural(size - rules.max_length, 'character')}.",
            )
        )
    for code, count, most, word in (
        ("caption.hashtags", count_hashtags(caption), rules.max_hashtags, "hashtag"),
        ("caption.mentions", count_mentions(caption), rules.max_mentions, "@mention"),
    ):
        if most is not None and count > most:
            found.append(
                finding(
                    code,
                    platform,
                    f"The caption has {_plural(count, word)}; {name} allows {most}.",
                    f"Remove {_plural(count - most, word)}.",
                )
            )
    return found
