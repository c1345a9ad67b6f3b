"""`probe_file()`: what a video file holds, read with PyAV (DESIGN §6).

It reads headers, the first few hundred packets and one decoded frame — never the whole file —
and turns every failure into UnreadableMedia with a sentence a person understands. It runs on
untrusted input, so production code calls it through `probe_isolated()` (a child process with
time and memory limits), never inside a web or worker process.
"""

from __future__ import annotations

import os
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from statistics import median
from typing import Any

import av

from apps.publishing.probe import boxes, sniff
from apps.publishing.probe.types import MediaProbe, UnreadableMedia

EMPTY = "The file is empty — it may not have finished uploading."
ENDS_EARLY = "The file ends early — it may not have finished uploading."
NOT_A_VIDEO = "This file is not a video (it looks like {kind})."
UNKNOWN_FORMAT = "This file is not a video format we can read."
NO_VIDEO = "No video track in this file."
ONLY_SOUND = "No video track in this file — it only has sound."
UNDECODABLE = "The video in this file can't be decoded — the file may be damaged."
NO_PICTURE_SIZE = "The video track has no picture size — the file may be damaged."
TOO_BIG_TO_CHECK = "Checking this file needed more memory than allowed — it may be damaged."
DAMAGED = "We couldn't read this file as a video — it may be damaged."
CANNOT_OPEN = "The file could not be opened — upload it again."

HEAD_BYTES = 4096
# Packets read for the frame-rate pattern and to find the first decodable frame.
MAX_PACKETS = 300
# A frame interval this far from the median one (relative) is a change of frame rate, not
# timestamp rounding (a 1/1000 time base rounds 30 fps to 33/34 ms: 3 %).
VFR_TOLERANCE = 0.2
# … and at least this share of intervals must differ before the rate counts as variable, so a
# single dropped frame does not.
VFR_MIN_SHARE = 0.05

# PyAV's demuxer names → ours. The MP4 family is decided by its brand (boxes.BoxScan.container)
# and Matroska vs WebM by the EBML DocType; names not listed keep their first alias.
FORMAT_NAMES = {
    "avi": "avi",
    "mpegts": "ts",
    "mpeg": "mpeg",
    "flv": "flv",
    "ogg": "ogg",
    "asf": "asf",
    "mxf": "mxf",
    "gif": "gif",
}
# Demuxers of still images: FFmpeg shows them as a one-frame video.
IMAGE_DEMUXERS = frozenset({"image2", "apng", "gif", "webp", "bmp", "tiff"})


def probe_file(path: str | Path) -> MediaProbe:
    """Read `path` with PyAV; raises UnreadableMedia with a reason a person understands."""
    try:
        return _probe(str(path))
    except UnreadableMedia:
        raise
    except (MemoryError, av.error.MemoryError) as exc:
        raise UnreadableMedia(TOO_BIG_TO_CHECK) from exc
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise UnreadableMedia(CANNOT_OPEN) from exc
    except Exception as exc:
        # Untrusted input: any other failure of FFmpeg or of our parsing is a damaged file.
        raise UnreadableMedia(DAMAGED) from exc


def _probe(path: str) -> MediaProbe:
    size = os.stat(path).st_size
    if size == 0:
        raise UnreadableMedia(EMPTY)
    with open(path, "rb") as file:
        head = file.read(HEAD_BYTES)
    kind = sniff.looks_like(head)
    if kind:
        raise UnreadableMedia(NOT_A_VIDEO.format(kind=kind))
    scan = boxes.scan(path, size)
    if scan.is_iso_bmff:
        if scan.image_kind:
            raise UnreadableMedia(NOT_A_VIDEO.format(kind=scan.image_kind))
        missing = scan.moov_offset is None or scan.mdat_offset is None
        if scan.truncated or (scan.reached_end and missing):
            # A box claims more bytes than arrived, or the index (moov, which most recorders
            # write last) or the media data (mdat) never came: an unfinished upload.
            raise UnreadableMedia(ENDS_EARLY)
    try:
        container = av.open(path, metadata_errors="ignore")
    except av.error.InvalidDataError as exc:
        raise UnreadableMedia(DAMAGED if scan.is_iso_bmff else UNKNOWN_FORMAT) from exc
    except av.error.EOFError as exc:
        raise UnreadableMedia(ENDS_EARLY) from exc
    with container:
        return _read(container, size, head, scan)


def main_video_stream(container: Any) -> Any:
    """The first video stream that is moving picture, not cover art (an M4A's or MP3's
    "attached picture" is a one-frame video stream to FFmpeg); None when there is none."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    return None


def _read(container: Any, size: int, head: bytes, scan: boxes.BoxScan) -> MediaProbe:
    format_name = container.format.name
    if set(format_name.split(",")) & IMAGE_DEMUXERS or format_name.endswith("_pipe"):
        raise UnreadableMedia(NOT_A_VIDEO.format(kind="an image"))
    video = main_video_stream(container)
    if video is None:
        raise UnreadableMedia(ONLY_SOUND if container.streams.audio else NO_VIDEO)
    context = video.codec_context
    # One decoding thread: the probe needs one frame, and fewer threads keep the memory
    # limit of the probe process meaningful.
    context.thread_count = 1
    if not context.width or not context.height:
        raise UnreadableMedia(NO_PICTURE_SIZE)

    timestamps, first_frame = _scan_packets(container, video)
    if first_frame is None:
        raise UnreadableMedia(UNDECODABLE)

    duration_s = _duration_s(container, video)
    fps_avg = _average_fps(video, timestamps, duration_s)
    bitrate = int(container.bit_rate or 0)
    if not bitrate and duration_s > 0:
        bitrate = int(size * 8 / duration_s)
    audio_codec, sample_rate, channels = _audio(container)
    is_mp4 = scan.is_iso_bmff and "mp4" in format_name.split(",")
    return MediaProbe(
        container=scan.container if is_mp4 else _container_name(format_name, head),
        size_bytes=size,
        duration_s=round(duration_s, 3),
        video_codec=_codec_name(context),
        video_profile=str(video.profile or context.profile or ""),
        pixel_format=str(context.pix_fmt or first_frame.format.name or ""),
        width=int(context.width),
        height=int(context.height),
        rotation=_rotation(first_frame, video),
        fps_avg=round(fps_avg, 3),
        variable_frame_rate=_variable(timestamps),
        interlaced=_interlaced(context, first_frame),
        bitrate_bps=bitrate,
        audio_codec=audio_codec,
        audio_sample_rate_hz=sample_rate,
        audio_channels=channels,
        faststart=is_mp4 and scan.faststart,
        has_edit_list=is_mp4 and scan.edit_list != boxes.EDIT_NONE,
        edit_list=scan.edit_list if is_mp4 else boxes.EDIT_NONE,
    )


def _scan_packets(container: Any, video: Any) -> tuple[list[int], Any]:
    """Presentation timestamps of the first MAX_PACKETS video packets and the first frame
    that decodes (None when none does)."""
    timestamps: list[int] = []
    first_frame = None
    for count, packet in enumerate(container.demux(video), start=1):
        if packet.pts is not None:
            timestamps.append(int(packet.pts))
        if first_frame is None:
            try:
                frames = packet.decode()
            except av.error.MemoryError:
                raise
            except av.error.FFmpegError:
                frames = []  # a damaged packet; a later one may decode
            if frames:
                first_frame = frames[0]
        if count >= MAX_PACKETS and first_frame is not None:
            break
        if count >= MAX_PACKETS * 10:  # nothing decodes: give up well before reading it all
            break
    return timestamps, first_frame


def _duration_s(container: Any, video: Any) -> float:
    if container.duration and container.duration > 0:
        return float(container.duration / av.time_base)
    if video.duration and video.time_base:
        return float(video.duration * video.time_base)
    return 0.0


def _average_fps(video: Any, timestamps: list[int], duration_s: float) -> float:
    for rate in (video.average_rate, video.guessed_rate, video.base_rate):
        if rate and float(rate) > 0:
            return float(rate)
    intervals = _intervals(timestamps)
    if intervals and video.time_base:
        return float(1 / (median(intervals) * Fraction(video.time_base)))
    if video.frames and duration_s > 0:
        return float(video.frames / duration_s)
    return 0.0


def _intervals(timestamps: list[int]) -> list[int]:
    ordered = sorted(set(timestamps))
    return [later - earlier for earlier, later in pairwise(ordered)]


def _variable(timestamps: list[int]) -> bool:
    """The frame interval changes (phones record variable frame rate; B-frames reorder
    packets, so timestamps are sorted first)."""
    intervals = _intervals(timestamps)
    if len(intervals) < 4:
        return False
    typical = median(intervals)
    if typical <= 0:
        return False
    off = sum(1 for value in intervals if abs(value - typical) > typical * VFR_TOLERANCE)
    return off / len(intervals) >= VFR_MIN_SHARE


def _rotation(frame: Any, video: Any) -> int:
    """Clockwise degrees (0/90/180/270) the picture is turned when shown.

    FFmpeg attaches the display matrix to decoded frames as a counter-clockwise angle; old
    files carry a clockwise `rotate` tag instead."""
    degrees: float | None = None
    try:
        counter_clockwise = frame.rotation
    except Exception:
        counter_clockwise = None
    if counter_clockwise:
        degrees = -float(counter_clockwise)
    else:
        tag = (video.metadata or {}).get("rotate")
        try:
            degrees = float(tag) if tag is not None else None
        except ValueError:
            degrees = None
    if degrees is None:
        return 0
    return round(degrees / 90.0) * 90 % 360


def _interlaced(context: Any, frame: Any) -> bool:
    # AVFieldOrder: 0 unknown, 1 progressive, 2-5 the interlaced orders (TT, BB, TB, BT).
    return int(context.field_order or 0) >= 2 or bool(frame.interlaced_frame)


def _codec_name(context: Any) -> str:
    # The canonical name ("av1"), not the decoder's ("libdav1d").
    codec = context.codec
    return str(getattr(codec, "canonical_name", "") or codec.name or "")


def _audio(container: Any) -> tuple[str, int, int]:
    if not container.streams.audio:
        return "", 0, 0
    context = container.streams.audio[0].codec_context
    channels = 0
    try:
        channels = int(context.layout.nb_channels)
    except Exception:
        channels = int(getattr(context, "channels", 0) or 0)
    return _codec_name(context), int(context.sample_rate or 0), channels


def _container_name(format_name: str, head: bytes) -> str:
    names = format_name.split(",")
    if "matroska" in names or "webm" in names:
        return "webm" if _ebml_doctype(head) == "webm" else "mkv"
    return FORMAT_NAMES.get(names[0], names[0])


def _ebml_doctype(head: bytes) -> str:
    """The DocType string of an EBML header ("webm", "matroska"), "" when not found."""
    index = head.find(b"\x42\x82", 0, 64)
    if index < 0 or index + 3 > len(head):
        return ""
    length_byte = head[index + 2]
    # A one-byte EBML variable-length integer: the top bit marks it, the rest is the length.
    if not length_byte & 0x80:
        return ""
    length = length_byte & 0x7F
    return head[index + 3 : index + 3 + length].decode("ascii", errors="replace")
