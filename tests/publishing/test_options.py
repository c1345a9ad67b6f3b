"""Per-platform options (apps/publishing/options.py): the key names the composer posts, the
typed parse both the form and preflight use, and the rules that need the account or the video."""

from __future__ import annotations

from typing import Any

import pytest

from apps.publishing import options
from apps.publishing.options import (
    InstagramOptions,
    InvalidOptions,
    TikTokOptions,
    check_instagram,
    check_tiktok,
    parse_instagram,
    parse_tiktok,
)
from apps.publishing.preflight import CreatorInfo

CREATOR = CreatorInfo(privacy_level_options=("PUBLIC_TO_EVERYONE", "SELF_ONLY"))


def test_the_keys_are_the_ones_the_composer_posts() -> None:
    assert [
        options.PRIVACY_LEVEL,
        options.ALLOW_COMMENT,
        options.ALLOW_DUET,
        options.ALLOW_STITCH,
        options.DISCLOSE_COMMERCIAL,
        options.BRAND_ORGANIC,
        options.BRAND_CONTENT,
        options.SHARE_TO_FEED,
        options.COVER_OFFSET_MS,
    ] == [
        "privacy_level",
        "allow_comment",
        "allow_duet",
        "allow_stitch",
        "disclose_commercial",
        "brand_organic",
        "brand_content",
        "share_to_feed",
        "cover_offset_ms",
    ]
    assert set(TikTokOptions().to_dict()) == {
        "privacy_level",
        "allow_comment",
        "allow_duet",
        "allow_stitch",
        "disclose_commercial",
        "brand_organic",
        "brand_content",
    }
    assert set(InstagramOptions().to_dict()) == {"share_to_feed", "cover_offset_ms"}


def test_the_defaults_are_tiktoks_ux_rules() -> None:
    # §1.11(2)-(3): no preselected privacy, interactions and disclosure off.
    assert parse_tiktok({}) == TikTokOptions(
        privacy_level="",
        allow_comment=False,
        allow_duet=False,
        allow_stitch=False,
        disclose_commercial=False,
        brand_organic=False,
        brand_content=False,
    )
    assert parse_instagram({}) == InstagramOptions(share_to_feed=True, cover_offset_ms=None)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (True, True),
        (False, False),
        ("on", True),
        ("true", True),
        ("1", True),
        (1, True),
        ("off", False),
        ("", False),
        ("0", False),
        (0, False),
        (None, False),
    ],
)
def test_switches_read_form_and_json_values(value: Any, parsed: bool) -> None:
    assert parse_tiktok({"allow_comment": value}).allow_comment is parsed


def test_stored_options_round_trip() -> None:
    tiktok = TikTokOptions("SELF_ONLY", True, False, True, True, True, False)
    assert parse_tiktok(tiktok.to_dict()) == tiktok
    instagram = InstagramOptions(share_to_feed=False, cover_offset_ms=1500)
    assert parse_instagram(instagram.to_dict()) == instagram


def test_brand_boxes_count_only_with_the_disclosure_on() -> None:
    parsed = parse_tiktok(
        {"disclose_commercial": False, "brand_content": True, "brand_organic": True}
    )
    assert (parsed.brand_content, parsed.brand_organic) == (False, False)
    parsed = parse_tiktok({"disclose_commercial": "on", "brand_content": "on"})
    assert (parsed.brand_content, parsed.brand_organic) == (True, False)


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        ({"allow_comment": "maybe"}, ["allow_comment"]),
        ({"privacy_level": 3}, ["privacy_level"]),
        ({"allow_duet": [], "brand_content": 2}, ["allow_duet", "brand_content"]),
    ],
)
def test_values_of_the_wrong_type_are_refused_per_field(
    raw: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(InvalidOptions) as caught:
        parse_tiktok(raw)
    assert [p.field for p in caught.value.problems] == fields
    assert {p.rule for p in caught.value.problems} == {"options.invalid"}


@pytest.mark.parametrize(
    ("value", "parsed"),
    [(None, None), ("", None), ("1500", 1500), (1500, 1500), (1500.0, 1500), (0, 0)],
)
def test_the_cover_offset_is_whole_milliseconds(value: Any, parsed: int | None) -> None:
    assert parse_instagram({"cover_offset_ms": value}).cover_offset_ms == parsed


@pytest.mark.parametrize("value", ["-5", -5, 1.5, "soon", True, [1]])
def test_a_cover_offset_that_is_not_whole_milliseconds_is_refused(value: Any) -> None:
    with pytest.raises(InvalidOptions) as caught:
        parse_instagram({"cover_offset_ms": value})
    assert [p.field for p in caught.value.problems] == ["cover_offset_ms"]


@pytest.mark.parametrize(
    ("raw", "creator", "rules"),
    [
        ({}, CREATOR, ["privacy.missing"]),
        ({}, None, ["privacy.missing"]),
        ({"privacy_level": "MUTUAL_FOLLOW_FRIENDS"}, CREATOR, ["privacy.invalid"]),
        ({"privacy_level": "MUTUAL_FOLLOW_FRIENDS"}, None, []),  # unknown without creator info
        ({"privacy_level": "SELF_ONLY"}, CREATOR, []),
        (
            {"privacy_level": "SELF_ONLY", "disclose_commercial": True, "brand_content": True},
            CREATOR,
            ["brand.private"],
        ),
        (
            {"privacy_level": "SELF_ONLY", "disclose_commercial": True},
            CREATOR,
            ["disclosure.incomplete"],
        ),
        (
            {"privacy_level": "SELF_ONLY", "disclose_commercial": True, "brand_organic": True},
            CREATOR,
            [],
        ),
        (
            {
                "privacy_level": "SELF_ONLY",
                "allow_comment": True,
                "allow_duet": True,
                "allow_stitch": True,
            },
            CreatorInfo(
                privacy_level_options=("SELF_ONLY",),
                comment_disabled=True,
                duet_disabled=True,
                stitch_disabled=True,
            ),
            ["interaction.comment", "interaction.duet", "interaction.stitch"],
        ),
        ({"privacy_level": "SELF_ONLY", "allow_comment": True}, None, []),
    ],
)
def test_tiktoks_composer_rules(
    raw: dict[str, Any], creator: CreatorInfo | None, rules: list[str]
) -> None:
    problems = check_tiktok(parse_tiktok(raw), creator)
    assert [p.rule for p in problems] == rules
    assert all(p.field and p.message and p.fix for p in problems)


def test_a_problem_names_the_field_the_form_shows_it_on() -> None:
    [problem] = check_tiktok(
        parse_tiktok({"privacy_level": "SELF_ONLY", "disclose_commercial": True}), CREATOR
    )
    assert problem.field == "disclose_commercial"


@pytest.mark.parametrize(
    ("offset", "duration", "rules"),
    [
        (None, 10.0, []),
        (9_999, 10.0, []),
        (10_000, 10.0, ["cover.offset"]),
        (50_000, 10.0, ["cover.offset"]),
        (50_000, None, []),
    ],
)
def test_the_cover_frame_falls_inside_the_video(
    offset: int | None, duration: float | None, rules: list[str]
) -> None:
    problems = check_instagram(InstagramOptions(cover_offset_ms=offset), duration_s=duration)
    assert [p.rule for p in problems] == rules
