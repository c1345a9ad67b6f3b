"""Media and caption limits: the values PLATFORMS.md states, and a cross-post rule no looser."""

from __future__ import annotations

import pytest

from apps.platforms import rules
from apps.platforms.instagram import rules as ig
from apps.platforms.tiktok import rules as tt
from apps.platforms.types import VideoLimits


def test_it_states_tiktoks_limits() -> None:
    assert (tt.VIDEO.min_fps, tt.VIDEO.max_fps) == (23, 60)
    assert (tt.VIDEO.min_width, tt.VIDEO.max_width) == (360, 4096)
    assert (tt.VIDEO.min_height, tt.VIDEO.max_height) == (360, 4096)
    assert tt.VIDEO.max_duration_s == 600
    assert tt.CAPTION.max_length == 2200 and tt.CAPTION.length_unit == "utf16"
    assert (tt.MIN_CHUNK_BYTES, tt.MAX_CHUNK_BYTES, tt.MAX_LAST_CHUNK_BYTES) == (
        5_000_000,
        64_000_000,
        128_000_000,
    )
    assert tt.MAX_CHUNK_COUNT == 1000
    assert tt.MIN_CHUNK_BYTES <= tt.DEFAULT_CHUNK_BYTES <= tt.MAX_CHUNK_BYTES


def test_it_states_instagrams_limits() -> None:
    assert ig.VIDEO.max_bytes == 300_000_000
    assert (ig.VIDEO.min_duration_s, ig.VIDEO.max_duration_s) == (3, 900)
    assert ig.VIDEO.max_width == 1920
    assert ig.VIDEO.max_bitrate_bps == 25_000_000
    assert (ig.CAPTION.max_length, ig.CAPTION.max_hashtags, ig.CAPTION.max_mentions) == (
        2200,
        30,
        20,
    )
    assert ig.REFRESH_MIN_AGE_S == 86_400
    # §2.8: progressive, 4:2:0 (any bit depth), no 4:2:2 or 4:4:4.
    assert ig.PROGRESSIVE_ONLY
    assert {"yuv420p", "yuvj420p", "yuv420p10le"} <= ig.PIXEL_FORMATS
    assert not {"yuv422p", "yuv444p", "yuv422p10le"} & ig.PIXEL_FORMATS


def test_it_states_the_cross_post_rule_of_section_3() -> None:
    video = rules.CROSS_POST_VIDEO
    assert video.containers == {"mp4", "mov"}  # WebM rejected
    assert video.video_codecs == {"h264", "hevc"}
    assert (video.min_width, video.max_width, video.min_height, video.max_height) == (
        360,
        1920,
        360,
        4096,
    )
    assert (video.min_duration_s, video.max_duration_s) == (3, 600)
    assert video.max_bytes == 300_000_000
    assert video.max_bitrate_bps == 25_000_000


def _lower_bound_ok(both: float | None, platform: float | None) -> bool:
    return platform is None or (both is not None and both >= platform)


def _upper_bound_ok(both: float | None, platform: float | None) -> bool:
    return platform is None or (both is not None and both <= platform)


@pytest.mark.parametrize("platform", [tt.VIDEO, ig.VIDEO], ids=["tiktok", "instagram"])
def test_it_is_never_looser_than_either_platform(platform: VideoLimits) -> None:
    both = rules.CROSS_POST_VIDEO
    assert both.containers <= platform.containers
    assert both.video_codecs <= platform.video_codecs
    if platform.audio_codecs is not None:
        assert both.audio_codecs is not None and both.audio_codecs <= platform.audio_codecs
    for low in ("min_fps", "min_width", "min_height", "min_duration_s", "min_aspect"):
        assert _lower_bound_ok(getattr(both, low), getattr(platform, low)), low
    for high in (
        "max_fps",
        "max_width",
        "max_height",
        "max_duration_s",
        "max_bytes",
        "max_bitrate_bps",
        "max_aspect",
        "max_audio_sample_rate_hz",
        "max_audio_channels",
    ):
        assert _upper_bound_ok(getattr(both, high), getattr(platform, high)), high
    assert rules.CROSS_POST_CAPTION.max_length <= min(tt.CAPTION.max_length, ig.CAPTION.max_length)


@pytest.mark.parametrize(("text", "length"), [("", 0), ("abc", 3), ("é", 1), ("🎬", 2)])
def test_it_counts_utf16_units(text: str, length: int) -> None:
    assert rules.utf16_length(text) == length
