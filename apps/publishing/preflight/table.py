"""Every preflight rule as a row: its code, platform, severity and source.

A finding takes its severity from here (`finding()` looks the row up), so the table cannot
disagree with what preflight does; tests/publishing/test_preflight_table.py checks that every
code preflight emits has a row and every row is emitted by some case.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.platforms.types import Platform
from apps.publishing.preflight.types import Finding, Severity

POST = ""  # a finding about the post as a whole


@dataclass(frozen=True)
class Rule:
    code: str
    platform: str  # a Platform value, or POST
    severity: Severity
    source: str  # where the rule comes from: a PLATFORMS.md section, or DESIGN.md


RULES: tuple[Rule, ...] = (
    # The post as a whole (DESIGN §6: scheduling needs a probed, readable video).
    Rule("targets.none", POST, Severity.ERROR, "DESIGN §6"),
    Rule("media.missing", POST, Severity.ERROR, "DESIGN §6"),
    Rule("media.pending", POST, Severity.ERROR, "DESIGN §6"),
    Rule("media.unreadable", POST, Severity.ERROR, "DESIGN §6"),
    # The account.
    Rule("account.reconnect", Platform.TIKTOK, Severity.ERROR, "DESIGN §5, §6"),
    Rule("account.reconnect", Platform.INSTAGRAM, Severity.ERROR, "DESIGN §5, §6"),
    Rule("creator.unavailable", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.6(a), §1.11(1)"),
    Rule(
        "creator.cannot_post",
        Platform.TIKTOK,
        Severity.ERROR,
        "PLATFORMS §1.6(a), §1.6(h), §1.11(1)",
    ),
    Rule("quota.exhausted", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.7 step 5"),
    # Options (apps/publishing/options.py).
    Rule("options.invalid", Platform.TIKTOK, Severity.ERROR, "DESIGN §4"),
    Rule("options.invalid", Platform.INSTAGRAM, Severity.ERROR, "DESIGN §4"),
    Rule("privacy.missing", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.6(b), §1.11(2)"),
    Rule("privacy.invalid", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.6(b), §1.11(2)"),
    Rule("brand.private", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.11(3)"),
    Rule("disclosure.incomplete", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.11(3)"),
    Rule("interaction.comment", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.11(2)"),
    Rule("interaction.duet", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.11(2)"),
    Rule("interaction.stitch", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.11(2)"),
    Rule("cover.offset", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.7 step 1, §3"),
    # The video.
    Rule("container", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.6(g)"),
    Rule("container", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule("video.codec", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.6(g)"),
    Rule("video.codec", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule("video.pixel_format", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule("video.interlaced", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule("fps.min", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.6(g)"),
    Rule("fps.min", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule("fps.max", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.6(g)"),
    Rule("fps.max", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule("width.min", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.6(g)"),
    Rule("width.max", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.6(g)"),
    Rule("width.max", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule("height.min", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.6(g)"),
    Rule("height.max", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.6(g)"),
    Rule("aspect.range", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule("aspect.recommended", Platform.INSTAGRAM, Severity.WARNING, "PLATFORMS §2.8, §3"),
    Rule("bitrate.max", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule("duration.min", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule("duration.max", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.6(a), §1.6(g), §1.11(1)"),
    Rule("duration.max", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule(
        "duration.reels_tab",
        Platform.INSTAGRAM,
        Severity.WARNING,
        "PLATFORMS §3 (sources disagree)",
    ),
    Rule("size.max", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.6(g)"),
    Rule("size.max", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8, §3"),
    Rule("audio.codec", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule("audio.sample_rate", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule("audio.channels", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule("mp4.faststart", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    Rule("mp4.edit_list", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.8"),
    # The caption.
    Rule("caption.length", Platform.TIKTOK, Severity.ERROR, "PLATFORMS §1.6(b)"),
    Rule("caption.length", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.7 step 1"),
    Rule("caption.hashtags", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.7 step 1"),
    Rule("caption.mentions", Platform.INSTAGRAM, Severity.ERROR, "PLATFORMS §2.7 step 1"),
)
RULE_INDEX: dict[tuple[str, str], Rule] = {(rule.code, rule.platform): rule for rule in RULES}


def finding(
    code: str,
    platform: str,
    message: str,
    fix: str = "",
    *,
    fix_url: str = "",
    account: str = "",
) -> Finding:
    """A finding of the rule (`code`, `platform`), with the rule's severity; a KeyError for a
    rule missing from RULES (the table test runs every rule)."""
    rule = RULE_INDEX[(code, platform)]
    return Finding(
        platform=platform,
        rule=code,
        severity=rule.severity,
        message=message,
        fix=fix,
        fix_url=fix_url,
        account=account,
    )


def table_text() -> str:
    """The table as aligned text: rule, platform, severity, source."""
    rows = [("rule", "platform", "severity", "source")]
    rows += [(r.code, r.platform or "(post)", str(r.severity), r.source) for r in RULES]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        "  ".join([*(row[i].ljust(widths[i]) for i in range(3)), row[3]]) for row in rows
    )
