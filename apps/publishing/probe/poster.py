"""The poster: one JPEG frame of the video, upright, for the media library and the composer.

Encoded with PyAV's MJPEG encoder (Pillow is not a dependency). Runs in the probe's child
process, after `probe_file()` said the video is readable.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from apps.publishing.probe.reader import main_video_stream
from apps.publishing.probe.types import MediaProbe

# A frame about a second in (the first is often black), or 10 % in for a short video.
POSTER_AT_S = 1.0
POSTER_AT_SHARE = 0.1
POSTER_MAX_SIDE = 720
# Frames decoded after the seek to reach the wanted time, at most.
MAX_FRAMES_AFTER_SEEK = 120

# Clockwise rotation → the filters that turn the stored picture upright.
UPRIGHT_FILTERS: dict[int, tuple[tuple[str, str | None], ...]] = {
    0: (),
    90: (("transpose", "clock"),),
    180: (("hflip", None), ("vflip", None)),
    270: (("transpose", "cclock"),),
}


def poster_jpeg(path: str | Path, probe: MediaProbe) -> bytes | None:
    """A JPEG of the frame at min(1 s, 10 % of the duration), at most POSTER_MAX_SIDE px on
    its long side; None when no frame decodes."""
    at_s = min(POSTER_AT_S, probe.duration_s * POSTER_AT_SHARE) if probe.duration_s > 0 else 0.0
    with av.open(str(path), metadata_errors="ignore") as container:
        video = main_video_stream(container)
        if video is None:
            return None
        video.codec_context.thread_count = 1
        frame = _frame_at(container, video, at_s)
        if frame is None:
            return None
        return _encode(frame, probe.rotation)


def _frame_at(container: Any, video: Any, at_s: float) -> Any:
    start_s = float(video.start_time * video.time_base) if video.start_time else 0.0
    target_s = start_s + at_s
    if at_s > 0 and video.time_base:
        try:
            container.seek(int(target_s / video.time_base), stream=video, backward=True)
        except av.error.FFmpegError:
            container.seek(0)
    chosen = None
    for index, frame in enumerate(container.decode(video)):
        chosen = frame
        if frame.time is None or frame.time >= target_s - 0.001:
            break
        if index >= MAX_FRAMES_AFTER_SEEK:
            break
    return chosen


def poster_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) scaled to fit POSTER_MAX_SIDE, even (4:2:0 JPEG), at least 2 px."""
    scale = min(1.0, POSTER_MAX_SIDE / max(width, height))

    def even(value: float) -> int:
        return max(2, int(value * scale) // 2 * 2)

    return even(width), even(height)


def _encode(frame: Any, rotation: int) -> bytes:
    upright_w, upright_h = (
        (frame.height, frame.width) if rotation % 180 == 90 else (frame.width, frame.height)
    )
    width, height = poster_size(upright_w, upright_h)
    graph = av.filter.Graph()
    nodes = [
        graph.add_buffer(
            width=frame.width,
            height=frame.height,
            format=frame.format,
            time_base=Fraction(1, 1000),
        )
    ]
    for name, argument in UPRIGHT_FILTERS.get(rotation, ()):
        nodes.append(graph.add(name, argument))
    nodes.append(graph.add("scale", f"{width}:{height}"))
    nodes.append(graph.add("format", "yuvj420p"))
    nodes.append(graph.add("buffersink"))
    graph.link_nodes(*nodes)
    graph.configure()
    frame.pts = 0
    graph.push(frame)
    upright = graph.vpull()
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = upright.width, upright.height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 25)
    packets = [*encoder.encode(upright), *encoder.encode(None)]
    return b"".join(bytes(packet) for packet in packets)
