"""Video files for the probe tests, made with PyAV in a temporary folder (nothing committed), and
the byte surgery that damages or reshapes them.

The MP4 box helpers here are written from ISO/IEC 14496-12 directly, not from
apps/publishing/probe/boxes.py, so a bug there cannot hide in a matching bug here.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

# Fast settings; one thread each, since libvpx's threads crawl on a busy 2-core machine.
FAST_OPTIONS: dict[str, dict[str, str]] = {
    "libx264": {"preset": "ultrafast"},
    "libx265": {"preset": "ultrafast", "x265-params": "log-level=none"},
    "libvpx": {"deadline": "realtime", "cpu-used": "8", "threads": "1"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8", "threads": "1"},
    "libsvtav1": {"preset": "12", "svtav1-params": "log-level=0"},
}


@dataclass(frozen=True)
class Video:
    """What to encode. The defaults make a file both platforms take: 360x640 (9:16) H.264
    yuv420p at 30 fps for 3.2 s, AAC 48 kHz stereo, MP4 with faststart."""

    codec: str = "libx264"
    width: int = 360
    height: int = 640
    fps: Fraction = Fraction(30)
    frames: int = 96
    pix_fmt: str = "yuv420p"
    format: str = "mp4"
    codec_options: dict[str, str] | None = None  # None: FAST_OPTIONS for the codec
    mux_options: dict[str, str] = field(default_factory=lambda: {"movflags": "faststart"})
    flags: str = ""  # codec flags, e.g. "+ildct+ilme" (interlaced)
    audio: str | None = "aac"
    audio_rate: int = 48_000
    audio_layout: str = "stereo"
    rotation: int = 0  # clockwise degrees, written as the display matrix
    # Explicit frame times in ms (variable frame rate); they replace `frames`.
    pts_ms: tuple[int, ...] | None = None
    first_frame: int = 0  # the first frame's number: >0 delays the video (an edit list)
    noise: bool = False  # random pixels (a high bitrate), else flat frames
    bright_from: int | None = None  # frames from this one on are white, the ones before dark
    corner_mark: bool = False  # a white square in the stored picture's top-left corner


def write(path: Path, video: Video) -> Path:
    with av.open(str(path), "w", format=video.format, options=video.mux_options) as container:
        options = (
            video.codec_options
            if video.codec_options is not None
            else FAST_OPTIONS.get(video.codec, {})
        )
        if video.flags:
            options = {**options, "flags": video.flags}
        stream: Any = container.add_stream(video.codec, rate=video.fps, options=options)
        stream.width, stream.height, stream.pix_fmt = video.width, video.height, video.pix_fmt
        if video.rotation:
            stream.set_display_rotation(-video.rotation)  # PyAV takes counter-clockwise
        time_base = Fraction(1, 1000) if video.pts_ms else 1 / video.fps
        if video.pts_ms:
            stream.codec_context.time_base = time_base
        audio: Any = None
        if video.audio:
            audio = container.add_stream(video.audio, rate=video.audio_rate)
            audio.layout = video.audio_layout
        pictures = _pictures(video, seed=len(str(path)))
        bright = _flat(video, 235) if video.bright_from is not None else None
        for index in range(len(video.pts_ms) if video.pts_ms else video.frames):
            frame = pictures[index % len(pictures)]
            if bright is not None and video.bright_from is not None and index >= video.bright_from:
                frame = bright
            frame.pts = video.pts_ms[index] if video.pts_ms else index + video.first_frame
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if audio is not None:
            _write_audio(container, audio, video)
    return path


def _pictures(video: Video, *, seed: int) -> list[Any]:
    """One flat dark frame to repeat (cheap to make and to encode), or eight of noise."""
    if not video.noise:
        return [_flat(video, 40)]
    noise = random.Random(seed)
    pictures = []
    for _ in range(8):
        frame = av.VideoFrame(video.width, video.height, "yuv420p")
        for plane in frame.planes:
            plane.update(noise.randbytes(plane.buffer_size))
        pictures.append(_converted(frame, video))
    return pictures


def _flat(video: Video, luma: int) -> Any:
    frame = av.VideoFrame(video.width, video.height, "yuv420p")
    for index, plane in enumerate(frame.planes):
        plane.update(bytes([luma if index == 0 else 128]) * plane.buffer_size)
    if video.corner_mark:
        luma_plane = frame.planes[0]
        pixels = bytearray(bytes(luma_plane))
        side = min(video.width, video.height) // 4
        for row in range(side):
            start = row * luma_plane.line_size
            pixels[start : start + side] = b"\xeb" * side
        luma_plane.update(bytes(pixels))
    return _converted(frame, video)


def _converted(frame: Any, video: Video) -> Any:
    return frame if video.pix_fmt == "yuv420p" else frame.reformat(format=video.pix_fmt)


def _write_audio(container: Any, audio: Any, video: Video) -> None:
    seconds = video.pts_ms[-1] / 1000 if video.pts_ms else float(video.frames / video.fps)
    total = int(seconds * video.audio_rate)
    sample_format = av.Codec(video.audio, "w").audio_formats[0].name
    done = 0
    while done < total:
        frame = av.AudioFrame(format=sample_format, layout=video.audio_layout, samples=1024)
        for plane in frame.planes:
            plane.update(b"\0" * plane.buffer_size)
        frame.sample_rate = video.audio_rate
        frame.pts = done
        frame.time_base = Fraction(1, video.audio_rate)
        container.mux(audio.encode(frame))
        done += 1024
    container.mux(audio.encode(None))


# --- MP4 boxes (ISO/IEC 14496-12 §4.2) ------------------------------------------------------


def top_level_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of each top-level box."""
    found = []
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        if size == 1:
            size = struct.unpack_from(">Q", data, offset + 8)[0]
        elif size == 0:
            size = len(data) - offset
        found.append((kind, offset, size))
        if size < 8:
            break
        offset += size
    return found


def box(data: bytes, kind: bytes) -> tuple[int, int]:
    """(offset, size) of the first top-level box of `kind`."""
    for found, offset, size in top_level_boxes(data):
        if found == kind:
            return offset, size
    raise LookupError(kind)


def first_elst(data: bytes) -> int:
    """Offset of the first `elst` box (its size field)."""
    return data.index(b"elst") - 4


def media_timescale_after(data: bytes, offset: int) -> int:
    """The timescale of the first `mdhd` after `offset` (a track's mdhd follows its edts)."""
    index = data.find(b"mdhd", offset)
    version = data[index + 4]
    return struct.unpack_from(">I", data, index + 4 + (20 if version == 1 else 12))[0]


def patch_first_edit(
    data: bytes, *, media_time: int | None = None, rate: int | None = None
) -> bytes:
    """The first elst entry with another media_time or rate (version 0 entries)."""
    out = bytearray(data)
    elst = first_elst(data)
    assert data[elst + 8] == 0, "version 0 elst expected"
    entry = elst + 16  # size, type, version+flags, entry_count
    if media_time is not None:
        struct.pack_into(">i", out, entry + 4, media_time)
    if rate is not None:
        struct.pack_into(">h", out, entry + 8, rate)
    return bytes(out)


def with_64bit_mdat(data: bytes) -> bytes:
    """The `free` box FFmpeg writes before mdat and mdat's header merged into one 16-byte mdat
    header with a 64-bit size: the media data stays where the chunk offsets point."""
    free_offset, free_size = box(data, b"free")
    mdat_offset, mdat_size = box(data, b"mdat")
    assert free_size == 8 and free_offset + 8 == mdat_offset
    header = struct.pack(">I4sQ", 1, b"mdat", mdat_size + 8)
    return data[:free_offset] + header + data[mdat_offset + 8 :]


def with_box_size(data: bytes, kind: bytes, size: int) -> bytes:
    offset, _ = box(data, kind)
    out = bytearray(data)
    struct.pack_into(">I", out, offset, size)
    return bytes(out)


def with_brand(data: bytes, brand: bytes) -> bytes:
    offset, _ = box(data, b"ftyp")
    return data[: offset + 8] + brand + data[offset + 12 :]


def with_box_type(data: bytes, kind: bytes, new_kind: bytes) -> bytes:
    offset, _ = box(data, kind)
    return data[: offset + 4] + new_kind + data[offset + 8 :]


def with_damage(
    data: bytes, *, seed: int, count: int, start: int = 0, end: int | None = None
) -> bytes:
    """`count` random bytes overwritten between `start` and `end`."""
    rng = random.Random(seed)
    out = bytearray(data)
    end = len(data) if end is None else end
    for _ in range(count):
        out[rng.randrange(start, end)] = rng.randrange(256)
    return bytes(out)
