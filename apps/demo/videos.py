"""Short synthetic videos made with PyAV (no binary media in the repository): the chaos run's
clip, and the tests' (tests/emulator/videos.py)."""

from __future__ import annotations

import fractions
from pathlib import Path
from typing import TYPE_CHECKING, cast

import av

if TYPE_CHECKING:
    from av.video.stream import VideoStream


def make_video(
    path: Path,
    *,
    width: int = 360,
    height: int = 640,
    fps: int = 30,
    seconds: float = 3.5,
    codec: str = "libx264",
    container: str = "mp4",
    faststart: bool = True,
    audio: bool = True,
) -> bytes:
    """Write a video of grey frames (+ silent AAC) and return its bytes.

    Defaults pass both platforms' checks: H.264/AAC MP4, moov first, no edit lists, 9:16, 30 fps.
    """
    options = {}
    if container == "mp4":
        options = {"use_editlist": "0"}
        if faststart:
            options["movflags"] = "faststart"
    with av.open(str(path), "w", format=container, options=options) as out:
        video = cast("VideoStream", out.add_stream(codec, rate=fps))
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        if codec == "libx264":
            video.options = {"preset": "ultrafast", "bf": "0"}
        sound = out.add_stream("aac", rate=44100, layout="stereo") if audio else None
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame(width, height, "yuv420p")
            for picture in frame.planes:
                picture.update(bytes([(i * 7) % 255]) * picture.buffer_size)
            frame.pts = i
            frame.time_base = fractions.Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if sound is not None:
            pts = 0
            while pts < int(seconds * 44100):
                chunk = av.AudioFrame(format="fltp", layout="stereo", samples=1024)
                for plane in chunk.planes:
                    plane.update(b"\x00" * plane.buffer_size)
                chunk.sample_rate, chunk.pts = 44100, pts
                chunk.time_base = fractions.Fraction(1, 44100)
                pts += 1024
                for packet in sound.encode(chunk):
                    out.mux(packet)
            for packet in sound.encode():
                out.mux(packet)
    return path.read_bytes()
