"""The video against one platform's limits (PLATFORMS §1.6(g), §2.8, §3)."""

from __future__ import annotations

from dataclasses import dataclass

from apps.publishing.preflight.limits import PlatformLimits
from apps.publishing.preflight.table import finding
from apps.publishing.preflight.types import Finding
from apps.publishing.probe import MediaProbe

# How formats are called in messages; anything else is shown upper-case.
CONTAINER_NAMES = {"mp4": "MP4", "mov": "MOV", "webm": "WebM", "mkv": "MKV", "avi": "AVI"}
CODEC_NAMES = {
    "h264": "H.264",
    "hevc": "HEVC (H.265)",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "mpeg4": "MPEG-4 Part 2",
    "mpeg2video": "MPEG-2",
    "prores": "ProRes",
    "aac": "AAC",
    "mp3": "MP3",
    "opus": "Opus",
}
# A measured frame rate is a ratio of timestamps: 23.976 must pass 23, and 60.0 must not
# measure as above 60.
FPS_TOLERANCE = 0.01
# [judgment] 1 % either way of 9:16 counts as 9:16 (1080x1918 is a 9:16 video with two lines
# cropped); the recommendation is only a warning.
ASPECT_TOLERANCE = 0.01
# What people pick: the common 9:16 export size, named in fix hints.
TYPICAL_SIZE = "1080×1920"


@dataclass(frozen=True)
class DurationCap:
    """The longest video a target takes, and why, for the fix hint."""

    seconds: float
    why: str  # "this TikTok account allows up to 180 s"
    account: str = ""  # set when the cap is the account's own (TikTok creator info)


def clock(seconds: float) -> str:
    """m:ss ("3:00", "15:01")."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def length(seconds: float) -> str:
    """A duration as people read it: "3 s", "2.9 s", "2.999 s" (never rounded up to a limit),
    "3:20"."""
    if seconds >= 60:
        return clock(seconds)
    return f"{seconds:.3f}".rstrip("0").rstrip(".") + " s"


def names(values: frozenset[str], labels: dict[str, str]) -> str:
    shown = sorted(labels.get(value, value.upper()) for value in values)
    return " or ".join([", ".join(shown[:-1]), shown[-1]]) if len(shown) > 1 else shown[0]


def media_findings(limits: PlatformLimits, probe: MediaProbe, cap: DurationCap) -> list[Finding]:
    """Everything about the file itself that `limits`' platform would refuse or warn about."""
    found: list[Finding] = []
    for check in (_format, _picture, _timing, _sound, _structure):
        found.extend(check(limits, probe, cap))
    return found


def _format(limits: PlatformLimits, probe: MediaProbe, cap: DurationCap) -> list[Finding]:
    video, name, platform = limits.video, limits.name, limits.platform
    found = []
    if probe.container not in video.containers:
        shown = CONTAINER_NAMES.get(probe.container, probe.container.upper())
        found.append(
            finding(
                "container",
                platform,
                f"{name} doesn't take {f'{shown} files' if shown else 'this kind of file'} — "
                "it takes "
                f"{names(video.containers, CONTAINER_NAMES)}.",
                "Export the video as MP4 (H.264).",
            )
        )
    if probe.video_codec not in video.video_codecs:
        shown = CODEC_NAMES.get(probe.video_codec, probe.video_codec.upper())
        found.append(
            finding(
                "video.codec",
                platform,
                f"{name} doesn't take {shown} video — it takes "
                f"{names(video.video_codecs, CODEC_NAMES)}.",
                "Export the video with the H.264 codec.",
            )
        )
    if limits.pixel_formats is not None and probe.pixel_format not in limits.pixel_formats:
        found.append(
            finding(
                "video.pixel_format",
                platform,
                f"{name} needs 4:2:0 colour; this video is {probe.pixel_format or 'unknown'}.",
                "Export with 4:2:0 colour (yuv420p).",
            )
        )
    if limits.progressive_only and probe.interlaced:
        found.append(
            finding(
                "video.interlaced",
                platform,
                f"{name} needs progressive video; this one is interlaced.",
                "Export it as progressive video (deinterlace it).",
            )
        )
    return found


def _picture(limits: PlatformLimits, probe: MediaProbe, cap: DurationCap) -> list[Finding]:
    video, name, platform = limits.video, limits.name, limits.platform
    width, height = probe.display_width, probe.display_height
    found = []
    for word, value, low, high, low_rule, high_rule in (
        ("wide", width, video.min_width, video.max_width, "width.min", "width.max"),
        ("tall", height, video.min_height, video.max_height, "height.min", "height.max"),
    ):
        if low is not None and value < low:
            found.append(
                finding(
                    low_rule,
                    platform,
                    f"The video is {value} px {word}; {name} needs at least {low} px.",
                    f"Export it at least {low} px {word} ({TYPICAL_SIZE} is typical).",
                )
            )
        if high is not None and value > high:
            found.append(
                finding(
                    high_rule,
                    platform,
                    f"The video is {value} px {word}; {name} allows at most {high} px.",
                    f"Scale it to {high} px {word} or less ({TYPICAL_SIZE} is typical).",
                )
            )
    if height > 0:
        ratio = width / height
        if (video.min_aspect is not None and ratio < video.min_aspect) or (
            video.max_aspect is not None and ratio > video.max_aspect
        ):
            found.append(
                finding(
                    "aspect.range",
                    platform,
                    f"The picture is {width}×{height}, {ratio:.2f}:1; {name} takes "
                    f"{video.min_aspect:g}:1 to {video.max_aspect:g}:1.",
                    f"Crop it to 9:16 ({TYPICAL_SIZE}).",
                )
            )
        elif limits.recommended_aspect is not None:
            wide, tall = limits.recommended_aspect
            if abs(ratio / (wide / tall) - 1) > ASPECT_TOLERANCE:
                found.append(
                    finding(
                        "aspect.recommended",
                        platform,
                        f"The picture is {width}×{height}; {name} recommends {wide}:{tall}.",
                        f"For a full-screen post, export at {wide}:{tall} ({TYPICAL_SIZE}).",
                    )
                )
    if probe.fps_avg > 0 and probe.fps_avg < video.min_fps - FPS_TOLERANCE:
        found.append(
            finding(
                "fps.min",
                platform,
                f"The video runs at {probe.fps_avg:g} fps; {name} needs at least "
                f"{video.min_fps:g} fps.",
                f"Export at {video.min_fps:g}–{video.max_fps:g} fps (30 fps is typical).",
            )
        )
    if probe.fps_avg > video.max_fps + FPS_TOLERANCE:
        found.append(
            finding(
                "fps.max",
                platform,
                f"The video runs at {probe.fps_avg:g} fps; {name} allows at most "
                f"{video.max_fps:g} fps.",
                f"Export at {video.max_fps:g} fps or less (30 fps is typical).",
            )
        )
    return found


def _timing(limits: PlatformLimits, probe: MediaProbe, cap: DurationCap) -> list[Finding]:
    video, name, platform = limits.video, limits.name, limits.platform
    found = []
    duration = probe.duration_s
    if video.min_duration_s is not None and duration < video.min_duration_s:
        found.append(
            finding(
                "duration.min",
                platform,
                f"The video is {length(duration)} long; {name} needs at least "
                f"{length(video.min_duration_s)}.",
                f"Use a video of {length(video.min_duration_s)} or more.",
            )
        )
    if duration > cap.seconds:
        found.append(
            finding(
                "duration.max",
                platform,
                f"The video is {length(duration)} long; {cap.why}.",
                f"Trim to {clock(cap.seconds)} or less — {cap.why}.",
                account=cap.account,
            )
        )
    elif limits.long_video_warning_s is not None and duration > limits.long_video_warning_s:
        found.append(
            finding(
                "duration.reels_tab",
                platform,
                f"The video is {length(duration)} long. {name} takes up to "
                f"{clock(video.max_duration_s)}, but some sources say only videos of "
                f"{clock(limits.long_video_warning_s)} or less are shown in the Reels tab.",
                f"Trim to {clock(limits.long_video_warning_s)} or less if reach in the "
                "Reels tab matters.",
            )
        )
    if probe.size_bytes > video.max_bytes:
        found.append(
            finding(
                "size.max",
                platform,
                f"The file is {_megabytes(probe.size_bytes)}; {name} takes at most "
                f"{_megabytes(video.max_bytes)}.",
                f"Export a smaller file (a lower bitrate, or trim it) of at most "
                f"{_megabytes(video.max_bytes)}.",
            )
        )
    if video.max_bitrate_bps is not None and probe.bitrate_bps > video.max_bitrate_bps:
        found.append(
            finding(
                "bitrate.max",
                platform,
                f"The video's bitrate is {probe.bitrate_bps / 1e6:.1f} Mbps; {name} takes at "
                f"most {video.max_bitrate_bps / 1e6:g} Mbps.",
                f"Export at {video.max_bitrate_bps / 1e6:g} Mbps or less.",
            )
        )
    return found


def _megabytes(size: int) -> str:
    if size >= 1_000_000_000:
        return f"{size / 1e9:.1f} GB".replace(".0 GB", " GB")
    return f"{size / 1e6:.1f} MB".replace(".0 MB", " MB")


def _sound(limits: PlatformLimits, probe: MediaProbe, cap: DurationCap) -> list[Finding]:
    video, name, platform = limits.video, limits.name, limits.platform
    if not probe.has_audio:  # no sound track is fine everywhere (§3)
        return []
    found = []
    if video.audio_codecs is not None and probe.audio_codec not in video.audio_codecs:
        shown = CODEC_NAMES.get(probe.audio_codec, probe.audio_codec.upper())
        found.append(
            finding(
                "audio.codec",
                platform,
                f"{name} needs {names(video.audio_codecs, CODEC_NAMES)} sound; this file's "
                f"sound is {shown}.",
                f"Export the sound as {names(video.audio_codecs, CODEC_NAMES)}.",
            )
        )
    high_rate = video.max_audio_sample_rate_hz
    if high_rate is not None and probe.audio_sample_rate_hz > high_rate:
        found.append(
            finding(
                "audio.sample_rate",
                platform,
                f"The sound is sampled at {probe.audio_sample_rate_hz / 1000:g} kHz; {name} "
                f"takes at most {high_rate / 1000:g} kHz.",
                f"Export the sound at {high_rate / 1000:g} kHz.",
            )
        )
    channels = video.max_audio_channels
    if channels is not None and probe.audio_channels > channels:
        found.append(
            finding(
                "audio.channels",
                platform,
                f"The sound has {probe.audio_channels} channels; {name} takes at most "
                f"{channels} (mono or stereo).",
                "Mix the sound down to stereo.",
            )
        )
    return found


def _structure(limits: PlatformLimits, probe: MediaProbe, cap: DurationCap) -> list[Finding]:
    """MP4/MOV layout; only for those containers (any other is refused by `_format`)."""
    name, platform = limits.name, limits.platform
    if probe.container not in ("mp4", "mov"):
        return []
    found = []
    if limits.requires_faststart and not probe.faststart:
        found.append(
            finding(
                "mp4.faststart",
                platform,
                f"The file's index (the moov atom) is at its end; {name} needs it at the front.",
                "Export with “Fast start” or “Optimize for web” on (FFmpeg: -movflags +faststart).",
            )
        )
    # A probe stored before `edit_list` existed says only `has_edit_list`: treat it as an edit.
    real_edit = probe.edit_list == "edit" or (probe.has_edit_list and not probe.edit_list)
    if limits.rejects_edit_lists and real_edit:
        found.append(
            finding(
                "mp4.edit_list",
                platform,
                f"The file has an edit list (cuts kept as instructions, not applied); {name} "
                "refuses those.",
                "Export the finished video again so the cuts are applied "
                "(FFmpeg: -use_editlist 0).",
            )
        )
    return found
