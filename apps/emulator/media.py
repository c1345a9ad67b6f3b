"""The sandbox's own media checks, written from PLATFORMS.md §1.6(g) and §2.8.

Deliberately independent of Switchboard's preflight: the sandbox judges videos the way the
platforms say they do and reports the platforms' own failure codes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import av

MP4_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"


@dataclass
class AudioInfo:
    codec: str
    sample_rate: int
    channels: int
    bit_rate: int


@dataclass
class Probe:
    """What the sandbox learned about a file. `readable` False = not a video PyAV can open."""

    size: int
    readable: bool = False
    format_name: str = ""
    is_webm: bool = False
    duration_s: float = 0.0
    video_codec: str = ""
    width: int = 0
    height: int = 0
    fps: float = 0.0
    pix_fmt: str = ""
    bit_rate: int = 0
    audio: list[AudioInfo] = field(default_factory=list)
    moov_before_mdat: bool = True
    has_edit_list: bool = False


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload_start, box_end) of the ISO-BMFF boxes in data[start:end]."""
    out: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1 and pos + 16 <= end:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            break
        out.append((kind, pos + header, min(pos + size, end)))
        pos += size
    return out


def _scan_mp4(path: Path, probe: Probe) -> None:
    """Top-level box order (moov before mdat = "faststart") and edit lists (trak/edts)."""
    with path.open("rb") as fh:
        order: list[bytes] = []
        moov: bytes | None = None
        pos = 0
        while True:
            fh.seek(pos)
            head = fh.read(16)
            if len(head) < 8:
                break
            size, kind = struct.unpack(">I4s", head[:8])
            header = 8
            if size == 1 and len(head) >= 16:
                size = struct.unpack(">Q", head[8:16])[0]
                header = 16
            elif size == 0:
                size = probe.size - pos
            if size < header:
                break
            order.append(kind)
            if kind == b"moov" and size <= 64_000_000:
                fh.seek(pos + header)
                moov = fh.read(size - header)
            pos += size
    if b"moov" in order and b"mdat" in order:
        probe.moov_before_mdat = order.index(b"moov") < order.index(b"mdat")
    if moov is not None:
        for kind, start, end in _boxes(moov, 0, len(moov)):
            if kind == b"trak" and any(k == b"edts" for k, _, _ in _boxes(moov, start, end)):
                probe.has_edit_list = True


def probe_file(path: Path) -> Probe:
    """Probe a video with PyAV; never raises for bad input (returns readable=False)."""
    probe = Probe(size=path.stat().st_size)
    try:
        with av.open(str(path)) as container:
            probe.format_name = container.format.name
            probe.is_webm = "webm" in container.format.name
            if not container.streams.video:
                return probe
            video = container.streams.video[0]
            probe.video_codec = video.codec_context.name
            probe.width = video.codec_context.width
            probe.height = video.codec_context.height
            rate = video.average_rate or video.base_rate
            probe.fps = float(rate) if rate else 0.0
            probe.pix_fmt = video.codec_context.pix_fmt or ""
            if container.duration is not None:
                probe.duration_s = container.duration / 1_000_000
            elif video.duration is not None and video.time_base is not None:
                probe.duration_s = float(video.duration * video.time_base)
            probe.bit_rate = container.bit_rate or 0
            for stream in container.streams.audio:
                ctx = stream.codec_context
                probe.audio.append(
                    AudioInfo(ctx.name, ctx.sample_rate or 0, ctx.channels or 0, ctx.bit_rate or 0)
                )
            probe.readable = True
    except (av.FFmpegError, OSError, ValueError):
        probe.readable = False
        return probe
    if probe.format_name == MP4_FAMILY:
        _scan_mp4(path, probe)
    return probe


# --- TikTok, PLATFORMS §1.6(g) ------------------------------------------------------------------
TIKTOK_CODECS = {"h264", "hevc", "vp8", "vp9"}
TIKTOK_MAX_BYTES = 4 * 1024**3
TIKTOK_API_MAX_DURATION = 600  # "API accepts ≤10 min"


def check_tiktok(probe: Probe, *, max_duration_sec: int) -> str:
    """The `fail_reason` TikTok would report for this video, or "" when it passes.

    MP4/WebM/MOV; H.264/H.265/VP8/VP9; 23-60 fps; each side 360-4096 px; ≤4 GB;
    duration ≤ `max_duration_sec` (the creator's `max_video_post_duration_sec`).
    """
    if not probe.readable or probe.size > TIKTOK_MAX_BYTES:
        return "file_format_check_failed"
    if probe.format_name != MP4_FAMILY and not probe.is_webm:
        return "file_format_check_failed"
    if probe.video_codec not in TIKTOK_CODECS:
        return "file_format_check_failed"
    if not 23 <= round(probe.fps, 2) <= 60:
        return "frame_rate_check_failed"
    if not (360 <= probe.width <= 4096 and 360 <= probe.height <= 4096):
        return "picture_size_check_failed"
    if probe.duration_s <= 0 or probe.duration_s > max_duration_sec:
        return "duration_check_failed"
    return ""


# --- Instagram Reels, PLATFORMS §2.8 ------------------------------------------------------------
IG_MAX_BYTES = 300_000_000
IG_MIN_DURATION = 3.0
IG_MAX_DURATION = 15 * 60
IG_MAX_BITRATE = 25_000_000
IG_UNSUPPORTED_FORMAT = 2207026


def check_instagram(probe: Probe) -> str:
    """Why Instagram would reject this Reel (reported as status ERROR 2207026), or "".

    MOV/MP4 with moov first and no edit lists; H.264/HEVC 4:2:0; AAC ≤48 kHz 1-2 ch; 23-60 fps;
    width ≤1920; aspect 0.01-10; ≤25 Mbps; 3 s-15 min; ≤300 MB.
    """
    if not probe.readable or probe.format_name != MP4_FAMILY:
        return "The video format is not supported: use MP4 or MOV."
    if probe.size > IG_MAX_BYTES:
        return "The video file is larger than 300 MB."
    if not probe.moov_before_mdat:
        return "The moov atom must be at the front of the file."
    if probe.has_edit_list:
        return "Edit lists are not supported."
    if probe.video_codec not in {"h264", "hevc"}:
        return "The video codec must be H.264 or HEVC."
    if probe.pix_fmt not in {"yuv420p", "yuvj420p"}:
        return "The video must use 4:2:0 chroma subsampling."
    for audio in probe.audio:
        if audio.codec != "aac" or audio.sample_rate > 48_000 or not 1 <= audio.channels <= 2:
            return "Audio must be AAC, at most 48 kHz, mono or stereo."
    if not 23 <= round(probe.fps, 2) <= 60:
        return "The frame rate must be between 23 and 60 fps."
    if probe.width > 1920 or probe.height <= 0:
        return "The video must be at most 1920 pixels wide."
    if not 0.01 <= probe.width / probe.height <= 10:
        return "The aspect ratio must be between 0.01:1 and 10:1."
    if probe.bit_rate > IG_MAX_BITRATE:
        return "The bitrate must be at most 25 Mbps."
    if not IG_MIN_DURATION <= probe.duration_s <= IG_MAX_DURATION:
        return "The video must be between 3 seconds and 15 minutes long."
    return ""
