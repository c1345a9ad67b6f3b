"""Preflight, rule by rule, against expectation tables written from PLATFORMS.md (§1.6, §1.11,
§2.7, §2.8, §3) — not computed from the rules modules, so a wrong limit there fails here."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from apps.platforms.types import Platform
from apps.publishing.preflight import (
    AccountContext,
    CreatorInfo,
    Finding,
    Severity,
    TargetInput,
    run_preflight,
)
from tests.publishing.media_helpers import probe_result

# A video both platforms take: 1080x1920 H.264 High yuv420p, 30 fps, 30 s, 8 Mbps, AAC 44.1 kHz
# stereo, MP4 with the index first and no edit list.
GOOD = probe_result(size_bytes=30_000_000, duration_s=30.0, bitrate_bps=8_000_000)

CREATOR = CreatorInfo(
    nickname="Northwind",
    privacy_level_options=("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"),
    max_video_post_duration_sec=600,
)
TIKTOK = AccountContext(
    platform=Platform.TIKTOK,
    label="@northwind on TikTok",
    can_publish=True,
    reconnect_url="/accounts/1/reconnect/",
    creator=CREATOR,
)
INSTAGRAM = AccountContext(
    platform=Platform.INSTAGRAM,
    label="@northwind on Instagram",
    can_publish=True,
    reconnect_url="/accounts/2/reconnect/",
    posts_left=25,
)
TIKTOK_OPTIONS = {"privacy_level": "PUBLIC_TO_EVERYONE"}
CAPTION = "Fresh roast, out now #coffee @northwind"


def targets(
    tiktok: AccountContext = TIKTOK,
    instagram: AccountContext = INSTAGRAM,
    tiktok_options: dict[str, Any] | None = None,
    instagram_options: dict[str, Any] | None = None,
    caption: str = CAPTION,
) -> list[TargetInput]:
    return [
        TargetInput(tiktok, caption, TIKTOK_OPTIONS if tiktok_options is None else tiktok_options),
        TargetInput(instagram, caption, instagram_options or {}),
    ]


def codes(findings: list[Finding], platform: str) -> set[str]:
    return {f.rule for f in findings if f.platform == platform}


def by_rule(findings: list[Finding], rule: str) -> Finding:
    [found] = [f for f in findings if f.rule == rule]
    return found


# (id, changes to GOOD, TikTok's codes, Instagram's codes)
MEDIA_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("clean", {}, "", ""),
    # Containers: TikTok MP4/WebM/MOV (§1.6(g)); Instagram MOV/MP4 (§2.8).
    ("mov", {"container": "mov"}, "", ""),
    ("webm-vp9", {"container": "webm", "video_codec": "vp9"}, "", "container video.codec"),
    ("mkv", {"container": "mkv"}, "container", "container"),
    (
        "avi-mpeg4",
        {"container": "avi", "video_codec": "mpeg4"},
        "container video.codec",
        "container video.codec",
    ),
    # Codecs: TikTok H.264/H.265/VP8/VP9; Instagram H.264/HEVC.
    ("hevc", {"video_codec": "hevc"}, "", ""),
    ("vp8", {"video_codec": "vp8"}, "", "video.codec"),
    ("av1", {"video_codec": "av1"}, "video.codec", "video.codec"),
    # Instagram: 4:2:0, progressive (§2.8); TikTok states neither.
    ("yuv444p", {"pixel_format": "yuv444p"}, "", "video.pixel_format"),
    ("yuv422p10le", {"pixel_format": "yuv422p10le"}, "", "video.pixel_format"),
    ("yuv420p10le", {"pixel_format": "yuv420p10le"}, "", ""),  # 4:2:0 at 10 bits
    ("yuvj420p", {"pixel_format": "yuvj420p"}, "", ""),
    ("interlaced", {"interlaced": True}, "", "video.interlaced"),
    # 23-60 fps on both.
    ("22.9fps", {"fps_avg": 22.9}, "fps.min", "fps.min"),
    ("23fps", {"fps_avg": 23.0}, "", ""),
    ("23.976fps", {"fps_avg": 23.976}, "", ""),
    ("60fps", {"fps_avg": 60.0}, "", ""),
    ("60.004fps-measured", {"fps_avg": 60.004}, "", ""),
    ("60.5fps", {"fps_avg": 60.5}, "fps.max", "fps.max"),
    ("120fps", {"fps_avg": 120.0}, "fps.max", "fps.max"),
    # Sizes: TikTok each side 360-4096; Instagram width ≤1920, 0.01:1-10:1, 9:16 advised.
    ("359x640", {"width": 359, "height": 640}, "width.min", ""),
    ("360x359", {"width": 360, "height": 359}, "height.min", "aspect.recommended"),
    ("1921x1920", {"width": 1921, "height": 1920}, "", "width.max aspect.recommended"),
    ("4097x4096", {"width": 4097, "height": 4096}, "width.max", "width.max aspect.recommended"),
    ("1080x4097", {"width": 1080, "height": 4097}, "height.max", "aspect.recommended"),
    ("1920x1080", {"width": 1920, "height": 1080}, "", "aspect.recommended"),
    ("1920x1080-turned-90", {"width": 1920, "height": 1080, "rotation": 90}, "", ""),
    ("1080x1920-turned-270", {"rotation": 270}, "", "aspect.recommended"),
    ("1080x1920-turned-180", {"rotation": 180}, "", ""),
    (
        "2160x3840-turned-90",
        {"width": 2160, "height": 3840, "rotation": 90},
        "",
        "width.max aspect.recommended",
    ),
    ("10.5:1", {"width": 3780, "height": 360}, "", "width.max aspect.range"),
    ("1:120", {"width": 360, "height": 43_200}, "height.max", "aspect.range"),
    # Instagram ≤25 Mbps.
    ("25mbps", {"bitrate_bps": 25_000_000}, "", ""),
    ("25.000001mbps", {"bitrate_bps": 25_000_001}, "", "bitrate.max"),
    # Durations: Instagram 3 s-15 min (90 s disputed: a warning); TikTok the creator's cap,
    # here 600 s, and never over 10 min.
    ("2.999s", {"duration_s": 2.999}, "", "duration.min"),
    ("3s", {"duration_s": 3.0}, "", ""),
    ("90s", {"duration_s": 90.0}, "", ""),
    ("90.5s", {"duration_s": 90.5}, "", "duration.reels_tab"),
    ("600s", {"duration_s": 600.0}, "", "duration.reels_tab"),
    ("600.5s", {"duration_s": 600.5}, "duration.max", "duration.reels_tab"),
    ("900s", {"duration_s": 900.0}, "duration.max", "duration.reels_tab"),
    ("900.001s", {"duration_s": 900.001}, "duration.max", "duration.max"),
    # Files: Instagram ≤300 MB, TikTok ≤4 GB.
    ("300mb", {"size_bytes": 300_000_000}, "", ""),
    ("300mb-and-a-byte", {"size_bytes": 300_000_001}, "", "size.max"),
    ("4gb-and-a-byte", {"size_bytes": 4_000_000_001}, "size.max", "size.max"),
    # Sound: Instagram AAC ≤48 kHz, 1-2 channels; TikTok states nothing; no sound is fine.
    ("no-sound", {"audio_codec": "", "audio_sample_rate_hz": 0, "audio_channels": 0}, "", ""),
    ("mp3", {"audio_codec": "mp3"}, "", "audio.codec"),
    ("opus", {"audio_codec": "opus"}, "", "audio.codec"),
    ("48khz", {"audio_sample_rate_hz": 48_000}, "", ""),
    ("96khz", {"audio_sample_rate_hz": 96_000}, "", "audio.sample_rate"),
    ("mono", {"audio_channels": 1}, "", ""),
    ("3-channels", {"audio_channels": 3}, "", "audio.channels"),
    ("5.1", {"audio_channels": 6}, "", "audio.channels"),
    # Instagram: moov first, no edit lists (§2.8) — for MP4/MOV only.
    ("moov-at-end", {"faststart": False}, "", "mp4.faststart"),
    ("mov-moov-at-end", {"container": "mov", "faststart": False}, "", "mp4.faststart"),
    (
        "webm-has-no-moov",
        {"container": "webm", "video_codec": "vp9", "faststart": False},
        "",
        "container video.codec",
    ),
    ("encoder-delay", {"has_edit_list": True, "edit_list": "delay"}, "", ""),
    ("real-edit", {"has_edit_list": True, "edit_list": "edit"}, "", "mp4.edit_list"),
    ("edit-stored-before-the-kinds", {"has_edit_list": True}, "", "mp4.edit_list"),
]


@pytest.mark.parametrize(
    ("changes", "tiktok", "instagram"),
    [case[1:] for case in MEDIA_CASES],
    ids=[case[0] for case in MEDIA_CASES],
)
def test_the_media_rules(changes: dict[str, Any], tiktok: str, instagram: str) -> None:
    findings = run_preflight(probe=dataclasses.replace(GOOD, **changes), targets=targets())
    assert codes(findings, "tiktok") == set(tiktok.split())
    assert codes(findings, "instagram") == set(instagram.split())
    assert codes(findings, "") == set()


# (id, TikTok account, TikTok options, Instagram account, Instagram options, probe changes,
#  TikTok's codes, Instagram's codes)
ACCOUNT_CASES: list[
    tuple[
        str,
        dict[str, Any],
        dict[str, Any],
        dict[str, Any],
        dict[str, Any],
        dict[str, Any],
        str,
        str,
    ]
] = [
    # DESIGN §6: an account that cannot publish now must be reconnected.
    (
        "cannot-publish",
        {"can_publish": False, "creator": None},
        {},
        {"can_publish": False},
        {},
        {},
        "account.reconnect",
        "account.reconnect",
    ),
    # §1.6(a), §1.11(1): creator info first; posting caps and bans refuse the post.
    ("creator-info-missing", {"creator": None}, {}, {}, {}, {}, "creator.unavailable", ""),
    (
        "daily-cap",
        {"creator": dataclasses.replace(CREATOR, error="spam_risk_too_many_posts")},
        {},
        {},
        {},
        {},
        "creator.cannot_post",
        "",
    ),
    (
        "banned",
        {"creator": dataclasses.replace(CREATOR, error="spam_risk_user_banned_from_posting")},
        {},
        {},
        {},
        {},
        "creator.cannot_post",
        "",
    ),
    (
        "app-cap",
        {"creator": dataclasses.replace(CREATOR, error="reached_active_user_cap")},
        {},
        {},
        {},
        {},
        "creator.cannot_post",
        "",
    ),
    # §1.11(1): a video longer than the creator's own cap.
    (
        "creator-allows-180s",
        {"creator": dataclasses.replace(CREATOR, max_video_post_duration_sec=180)},
        {},
        {},
        {},
        {"duration_s": 180.5},
        "duration.max",
        "duration.reels_tab",
    ),
    (
        "creator-allows-300s",
        {"creator": dataclasses.replace(CREATOR, max_video_post_duration_sec=300)},
        {},
        {},
        {},
        {"duration_s": 299.0},
        "",
        "duration.reels_tab",
    ),
    (
        "no-creator-info-means-180s",
        {"creator": None},
        {},
        {},
        {},
        {"duration_s": 181.0},
        "creator.unavailable duration.max",
        "duration.reels_tab",
    ),
    (
        "creator-over-the-api-limit",
        {"creator": dataclasses.replace(CREATOR, max_video_post_duration_sec=900)},
        {},
        {},
        {},
        {"duration_s": 601.0},
        "duration.max",
        "duration.reels_tab",
    ),
    # §1.11(2): privacy picked by a person from privacy_level_options.
    ("privacy-not-picked", {}, {"privacy_level": ""}, {}, {}, {}, "privacy.missing", ""),
    (
        "privacy-not-offered",
        {},
        {"privacy_level": "FOLLOWER_OF_CREATOR"},
        {},
        {},
        {},
        "privacy.invalid",
        "",
    ),
    ("privacy-private", {}, {"privacy_level": "SELF_ONLY"}, {}, {}, {}, "", ""),
    # §1.11(2): interactions the creator has turned off cannot be allowed.
    (
        "comments-off",
        {"creator": dataclasses.replace(CREATOR, comment_disabled=True)},
        {**TIKTOK_OPTIONS, "allow_comment": True},
        {},
        {},
        {},
        "interaction.comment",
        "",
    ),
    (
        "duets-off",
        {"creator": dataclasses.replace(CREATOR, duet_disabled=True)},
        {**TIKTOK_OPTIONS, "allow_duet": True},
        {},
        {},
        {},
        "interaction.duet",
        "",
    ),
    (
        "stitches-off",
        {"creator": dataclasses.replace(CREATOR, stitch_disabled=True)},
        {**TIKTOK_OPTIONS, "allow_stitch": True},
        {},
        {},
        {},
        "interaction.stitch",
        "",
    ),
    (
        "interactions-allowed",
        {},
        {**TIKTOK_OPTIONS, "allow_comment": True, "allow_duet": True, "allow_stitch": True},
        {},
        {},
        {},
        "",
        "",
    ),
    (
        "interaction-off-and-not-asked",
        {"creator": dataclasses.replace(CREATOR, comment_disabled=True)},
        TIKTOK_OPTIONS,
        {},
        {},
        {},
        "",
        "",
    ),
    # §1.11(3): disclosure needs a box ticked; branded content cannot be private.
    (
        "disclosure-without-a-box",
        {},
        {**TIKTOK_OPTIONS, "disclose_commercial": True},
        {},
        {},
        {},
        "disclosure.incomplete",
        "",
    ),
    (
        "your-brand",
        {},
        {**TIKTOK_OPTIONS, "disclose_commercial": True, "brand_organic": True},
        {},
        {},
        {},
        "",
        "",
    ),
    (
        "branded-content-public",
        {},
        {**TIKTOK_OPTIONS, "disclose_commercial": True, "brand_content": True},
        {},
        {},
        {},
        "",
        "",
    ),
    (
        "branded-content-private",
        {},
        {"privacy_level": "SELF_ONLY", "disclose_commercial": True, "brand_content": True},
        {},
        {},
        {},
        "brand.private",
        "",
    ),
    (
        "brand-box-without-disclosure",
        {},
        {"privacy_level": "SELF_ONLY", "disclose_commercial": False, "brand_content": True},
        {},
        {},
        {},
        "",
        "",
    ),
    (
        "options-of-the-wrong-type",
        {},
        {**TIKTOK_OPTIONS, "allow_comment": "maybe"},
        {},
        {"cover_offset_ms": "soon"},
        {},
        "options.invalid",
        "options.invalid",
    ),
    # §2.7 step 5: no posts left in the rolling 24 h.
    ("no-posts-left", {}, TIKTOK_OPTIONS, {"posts_left": 0}, {}, {}, "", "quota.exhausted"),
    ("posts-left-unknown", {}, TIKTOK_OPTIONS, {"posts_left": None}, {}, {}, "", ""),
    # §3: the cover offset (thumb_offset) falls inside the video.
    ("cover-inside", {}, TIKTOK_OPTIONS, {}, {"cover_offset_ms": 29_999}, {}, "", ""),
    (
        "cover-at-the-end",
        {},
        TIKTOK_OPTIONS,
        {},
        {"cover_offset_ms": 30_000},
        {},
        "",
        "cover.offset",
    ),
    ("cover-negative", {}, TIKTOK_OPTIONS, {}, {"cover_offset_ms": -1}, {}, "", "options.invalid"),
]


@pytest.mark.parametrize(
    ("tiktok", "tiktok_options", "instagram", "instagram_options", "changes", "tt", "ig"),
    [case[1:] for case in ACCOUNT_CASES],
    ids=[case[0] for case in ACCOUNT_CASES],
)
def test_the_account_and_option_rules(
    tiktok: dict[str, Any],
    tiktok_options: dict[str, Any],
    instagram: dict[str, Any],
    instagram_options: dict[str, Any],
    changes: dict[str, Any],
    tt: str,
    ig: str,
) -> None:
    findings = run_preflight(
        probe=dataclasses.replace(GOOD, **changes),
        targets=targets(
            dataclasses.replace(TIKTOK, **tiktok),
            dataclasses.replace(INSTAGRAM, **instagram),
            tiktok_options or TIKTOK_OPTIONS,
            instagram_options,
        ),
    )
    assert codes(findings, "tiktok") == set(tt.split())
    assert codes(findings, "instagram") == set(ig.split())


# --- The post as a whole -----------------------------------------------------------------


def test_a_post_without_a_video_asks_for_one() -> None:
    findings = run_preflight(probe=None, targets=targets())
    assert [(f.rule, f.platform, f.fix) for f in findings] == [
        ("media.missing", "", "Choose a video")
    ]


def test_a_video_still_being_checked_blocks_scheduling() -> None:
    findings = run_preflight(probe=None, media_pending=True, targets=targets())
    assert [(f.rule, f.message, f.blocks) for f in findings] == [
        ("media.pending", "Still checking the video…", True)
    ]


def test_an_unreadable_video_blocks_with_the_probes_reason() -> None:
    reason = "The file ends early — it may not have finished uploading."
    findings = run_preflight(probe=None, media_error=reason, targets=targets())
    assert [(f.rule, f.message, f.blocks) for f in findings] == [("media.unreadable", reason, True)]


def test_without_a_video_the_account_rules_still_run() -> None:
    findings = run_preflight(
        probe=None,
        targets=targets(
            tiktok_options={}, instagram=dataclasses.replace(INSTAGRAM, can_publish=False)
        ),
    )
    assert {f.rule for f in findings} == {"media.missing", "privacy.missing", "account.reconnect"}


def test_a_post_without_accounts_says_so() -> None:
    assert [f.rule for f in run_preflight(probe=GOOD, targets=[])] == ["targets.none"]


def test_a_clean_post_has_no_findings() -> None:
    assert run_preflight(probe=GOOD, targets=targets()) == []


# --- Messages and fixes with the concrete numbers ------------------------------------------


def test_the_tiktok_duration_fix_names_the_accounts_own_limit() -> None:
    creator = dataclasses.replace(CREATOR, max_video_post_duration_sec=180)
    findings = run_preflight(
        probe=dataclasses.replace(GOOD, duration_s=200.0),
        targets=targets(dataclasses.replace(TIKTOK, creator=creator)),
    )
    finding = by_rule(findings, "duration.max")
    assert finding.fix == "Trim to 3:00 or less — this TikTok account allows up to 180 s."
    assert finding.message == "The video is 3:20 long; this TikTok account allows up to 180 s."
    assert finding.account == "@northwind on TikTok" and finding.blocks


def test_the_instagram_duration_fixes_name_the_limits() -> None:
    long = run_preflight(probe=dataclasses.replace(GOOD, duration_s=901.0), targets=targets())
    assert [f.fix for f in long if f.rule == "duration.max" and f.platform == "instagram"] == [
        "Trim to 15:00 or less — Instagram allows up to 900 s (15:00)."
    ]
    short = run_preflight(probe=dataclasses.replace(GOOD, duration_s=2.9), targets=targets())
    assert by_rule(short, "duration.min").message == (
        "The video is 2.9 s long; Instagram needs at least 3 s."
    )


@pytest.mark.parametrize(
    ("changes", "rule", "platform", "fix"),
    [
        ({"fps_avg": 15.0}, "fps.min", "tiktok", "Export at 23–60 fps (30 fps is typical)."),
        (
            {"size_bytes": 312_000_000},
            "size.max",
            "instagram",
            "Export a smaller file (a lower bitrate, or trim it) of at most 300 MB.",
        ),
        ({"bitrate_bps": 31_200_000}, "bitrate.max", "instagram", "Export at 25 Mbps or less."),
        (
            {"width": 200, "height": 356},
            "width.min",
            "tiktok",
            "Export it at least 360 px wide (1080×1920 is typical).",
        ),
        (
            {"audio_sample_rate_hz": 96_000},
            "audio.sample_rate",
            "instagram",
            "Export the sound at 48 kHz.",
        ),
    ],
)
def test_fixes_carry_the_number_to_aim_for(
    changes: dict[str, Any], rule: str, platform: str, fix: str
) -> None:
    findings = run_preflight(probe=dataclasses.replace(GOOD, **changes), targets=targets())
    assert [f.fix for f in findings if f.rule == rule and f.platform == platform] == [fix]


@pytest.mark.parametrize(
    ("container", "message"),
    [
        ("webm", "Instagram doesn't take WebM files — it takes MOV or MP4."),
        ("", "Instagram doesn't take this kind of file — it takes MOV or MP4."),
    ],
)
def test_a_container_message_names_what_the_platform_takes(container: str, message: str) -> None:
    findings = run_preflight(
        probe=dataclasses.replace(GOOD, container=container), targets=targets()
    )
    assert [f.message for f in findings if f.rule == "container" and f.platform == "instagram"] == [
        message
    ]


def test_a_blocked_account_links_to_its_reconnect_page() -> None:
    instagram = dataclasses.replace(
        INSTAGRAM, can_publish=False, blocked_reason="Instagram no longer accepts its token."
    )
    finding = by_rule(
        run_preflight(probe=GOOD, targets=targets(instagram=instagram)), "account.reconnect"
    )
    assert finding.message == (
        "@northwind on Instagram can't publish right now: Instagram no longer accepts its token."
    )
    assert (finding.fix, finding.fix_url) == ("Reconnect", "/accounts/2/reconnect/")


def test_a_creator_error_says_what_tiktok_said() -> None:
    tiktok = dataclasses.replace(
        TIKTOK, creator=dataclasses.replace(CREATOR, error="spam_risk_too_many_posts")
    )
    finding = by_rule(run_preflight(probe=GOOD, targets=targets(tiktok)), "creator.cannot_post")
    assert "daily posting limit" in finding.message
    assert finding.fix.startswith("Schedule it for tomorrow")


def test_an_offered_privacy_level_is_named_in_the_fix() -> None:
    private = dataclasses.replace(
        TIKTOK,
        creator=dataclasses.replace(
            CREATOR, privacy_level_options=("FOLLOWER_OF_CREATOR", "SELF_ONLY")
        ),
    )
    findings = run_preflight(probe=GOOD, targets=targets(private))
    assert by_rule(findings, "privacy.invalid").fix == "Pick one of: Followers, Only me."


# --- Several targets -------------------------------------------------------------------------


def test_a_video_problem_shared_by_two_accounts_is_listed_once() -> None:
    second = dataclasses.replace(TIKTOK, label="@northwind.eu on TikTok")
    findings = run_preflight(
        probe=dataclasses.replace(GOOD, width=200, duration_s=700.0),
        targets=[*targets(), TargetInput(second, CAPTION, TIKTOK_OPTIONS)],
    )
    assert [f.rule for f in findings if f.platform == "tiktok"].count("width.min") == 1
    # The duration cap is each account's own: one finding per account.
    assert sorted(
        f.account for f in findings if f.rule == "duration.max" and f.platform == "tiktok"
    ) == ["@northwind on TikTok", "@northwind.eu on TikTok"]


def test_errors_come_before_warnings() -> None:
    findings = run_preflight(
        probe=dataclasses.replace(GOOD, width=1920, height=1080, duration_s=120.0, fps_avg=15.0),
        targets=targets(),
    )
    severities = [f.severity for f in findings]
    assert Severity.WARNING in severities and Severity.ERROR in severities
    assert severities == sorted(severities, key=lambda s: s != Severity.ERROR)


def test_findings_survive_a_round_trip_through_json() -> None:
    findings = run_preflight(probe=dataclasses.replace(GOOD, fps_avg=15.0), targets=targets())
    assert [Finding.from_dict(f.to_dict()) for f in findings] == findings


# --- One source for every number -----------------------------------------------------------

PREFLIGHT = Path(__file__).resolve().parents[2] / "apps" / "publishing" / "preflight"
# Limits PLATFORMS.md states: preflight must read them from the rules modules, never repeat them.
LIMIT_VALUES = {
    2200,
    300_000_000,
    4_000_000_000,
    1920,
    4096,
    360,
    23,
    90,
    180,
    600,
    900,
    25_000_000,
    48_000,
}


def test_preflight_repeats_no_platform_limit() -> None:
    found = []
    for path in sorted(PREFLIGHT.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            value = node.value if isinstance(node, ast.Constant) else None
            is_number = isinstance(value, int | float) and not isinstance(value, bool)
            if is_number and value in LIMIT_VALUES:
                found.append(f"{path.name}:{node.lineno} {value}")
    assert found == []
