"""The probe corpus: over 200 edge-case and malformed inputs, generated into a folder.

Each case says what must come out, written from PLATFORMS.md §1.6(g), §2.8 and §3 (not from the
rules modules): "ok" and the media rule codes each platform must report — exactly those — or
the UnreadableMedia sentence, or UNREADABLE (any sentence), or ANYTHING for damaged input whose
only promise is that it neither raises nor hangs.
"""

from __future__ import annotations

import io
import random
import struct
import sys
import wave
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from apps.publishing.probe import reader
from tests.publishing.media_files import (
    Video,
    box,
    first_elst,
    media_timescale_after,
    patch_first_edit,
    top_level_boxes,
    with_64bit_mdat,
    with_box_size,
    with_box_type,
    with_brand,
    with_damage,
    write,
)

OK = "ok"
UNREADABLE = "unreadable"
ANYTHING = "anything"


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    group: str
    expect: str  # OK, UNREADABLE, ANYTHING or the exact UnreadableMedia sentence
    tiktok: frozenset[str] = frozenset()  # with OK: TikTok's media rule codes, exactly
    instagram: frozenset[str] = frozenset()


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# name → (video, TikTok's codes, Instagram's codes). The base (Video()) is 360x640 (9:16) H.264
# yuv420p, 30 fps, 3.2 s, AAC 48 kHz stereo, MP4 with faststart: clean on both.
ONE = {"frames": 1, "audio": None}  # a single frame: cheap at any size (0.03 s long)
ENCODED: dict[str, tuple[Video, str, str]] = {
    # Containers and structure (§1.6(g) MP4/WebM/MOV; §2.8 MOV/MP4, moov first, no edit lists)
    "base": (Video(), "", ""),
    "no-audio": (Video(audio=None), "", ""),
    "mov": (Video(format="mov"), "", ""),
    "moov-at-end": (Video(mux_options={}), "", "mp4.faststart"),
    "mov-moov-at-end": (Video(format="mov", mux_options={}), "", "mp4.faststart"),
    "fragmented": (Video(mux_options={"movflags": "frag_keyframe+empty_moov"}), "", ""),
    # B-frames: FFmpeg writes the encoder delay as an edit list (not a real edit).
    "b-frames": (Video(codec_options={"preset": "veryfast"}), "", ""),
    # A video that starts 1 s late: an empty edit, then the media — a real edit list.
    "delayed-start": (Video(first_frame=30, audio=None), "", "mp4.edit_list"),
    "mkv": (Video(format="matroska", mux_options={}), "container", "container"),
    "flv": (Video(format="flv", mux_options={}), "container", "container"),
    # Codecs (§1.6(g) H.264/H.265/VP8/VP9; §2.8 H.264 or HEVC, 4:2:0, progressive)
    "hevc": (Video(codec="libx265"), "", ""),
    "hevc-10bit": (Video(codec="libx265", pix_fmt="yuv420p10le"), "", ""),
    "h264-10bit": (Video(pix_fmt="yuv420p10le"), "", ""),
    "h264-444": (Video(pix_fmt="yuv444p"), "", "video.pixel_format"),
    "h264-422": (Video(pix_fmt="yuv422p"), "", "video.pixel_format"),
    "vp9-in-mp4": (Video(codec="libvpx-vp9"), "", "video.codec"),
    "vp9-webm": (
        Video(codec="libvpx-vp9", format="webm", audio="libopus", mux_options={}),
        "",
        "container video.codec audio.codec",
    ),
    "vp8-webm": (
        Video(codec="libvpx", format="webm", audio="libopus", mux_options={}),
        "",
        "container video.codec audio.codec",
    ),
    "av1-mp4": (Video(codec="libsvtav1"), "video.codec", "video.codec"),
    "mpeg4-avi": (
        Video(codec="mpeg4", format="avi", audio="libmp3lame", mux_options={}),
        "container video.codec",
        "container video.codec audio.codec",
    ),
    "mpeg2-ts": (
        Video(codec="mpeg2video", format="mpegts", mux_options={}),
        "container video.codec",
        "container video.codec",
    ),
    "prores-mov": (
        Video(codec="prores", pix_fmt="yuv422p10le", format="mov", audio="pcm_s16le"),
        "video.codec",
        "video.codec video.pixel_format audio.codec",
    ),
    "mjpeg-avi": (
        Video(codec="mjpeg", pix_fmt="yuvj420p", format="avi", audio=None, mux_options={}),
        "container video.codec",
        "container video.codec",
    ),
    "interlaced": (Video(flags="+ildct+ilme"), "", "video.interlaced"),
    "interlaced-mpeg2-ts": (
        Video(codec="mpeg2video", format="mpegts", flags="+ildct+ilme", mux_options={}),
        "container video.codec",
        "container video.codec video.interlaced",
    ),
    # Frame rates (23-60 fps on both)
    "15fps": (Video(fps=Fraction(15), frames=48), "fps.min", "fps.min"),
    "22fps": (Video(fps=Fraction(22), frames=71), "fps.min", "fps.min"),
    "23fps": (Video(fps=Fraction(23), frames=74), "", ""),
    "23.976fps": (Video(fps=Fraction(24000, 1001), frames=77), "", ""),
    "24fps": (Video(fps=Fraction(24), frames=77), "", ""),
    "25fps": (Video(fps=Fraction(25), frames=80), "", ""),
    "29.97fps": (Video(fps=Fraction(30000, 1001), frames=96), "", ""),
    "50fps": (Video(fps=Fraction(50), frames=160), "", ""),
    "59.94fps": (Video(fps=Fraction(60000, 1001), frames=192), "", ""),
    "60fps": (Video(fps=Fraction(60), frames=192), "", ""),
    "61fps": (Video(fps=Fraction(61), frames=196), "fps.max", "fps.max"),
    "120fps": (Video(fps=Fraction(120), frames=384), "fps.max", "fps.max"),
    # Variable frame rate: 33/50 ms frames average ~24 fps; 40/60 ms average 20 fps.
    "vfr-24": (Video(pts_ms=tuple(83 * (i // 2) + 33 * (i % 2) for i in range(96))), "", ""),
    "vfr-20": (
        Video(pts_ms=tuple(100 * (i // 2) + 40 * (i % 2) for i in range(80))),
        "fps.min",
        "fps.min",
    ),
    # Dimensions (TikTok: each side 360-4096; Instagram: width ≤1920, 0.01:1-10:1, 9:16 advised)
    "200x200": (Video(width=200, height=200), "width.min height.min", "aspect.recommended"),
    "358x640": (Video(width=358, height=640), "width.min", ""),  # within 1 % of 9:16
    "640x360": (Video(width=640, height=360), "", "aspect.recommended"),
    "640x360-rotated-90": (Video(width=640, height=360, rotation=90), "", ""),
    "640x360-rotated-270": (Video(width=640, height=360, rotation=270), "", ""),
    "360x640-rotated-180": (Video(rotation=180), "", ""),
    "360x640-rotated-90": (Video(rotation=90), "", "aspect.recommended"),
    "1922x1080": (Video(width=1922, height=1080), "", "width.max aspect.recommended"),
    "2160x3840": (Video(width=2160, height=3840, **ONE), "", "width.max duration.min"),
    "4096x2304": (
        Video(width=4096, height=2304, **ONE),
        "",
        "width.max aspect.recommended duration.min",
    ),
    "4098x2304": (
        Video(width=4098, height=2304, **ONE),
        "width.max",
        "width.max aspect.recommended duration.min",
    ),
    "2304x4098": (Video(width=2304, height=4098, **ONE), "height.max", "width.max duration.min"),
    "8k": (
        Video(width=7680, height=4320, **ONE),
        "width.max height.max",
        "width.max aspect.recommended duration.min",
    ),
    "3640x360": (Video(width=3640, height=360, **ONE), "", "width.max aspect.range duration.min"),
    # Durations (Instagram 3 s-15 min, 90 s disputed; TikTok ≤10 min by the API)
    "2.9s": (Video(frames=87, audio=None), "", "duration.min"),
    "3.0s": (Video(frames=90, audio=None), "", ""),
    "3.0s-with-audio": (Video(frames=90), "", ""),
    "91s": (Video(fps=Fraction(24), frames=24 * 91, audio=None), "", "duration.reels_tab"),
    # Just over 15 min, kept tiny: 16x16 at 24 fps.
    "900.5s": (
        Video(width=16, height=16, fps=Fraction(24), frames=21_612, audio=None),
        "width.min height.min duration.max",
        "duration.max aspect.recommended",
    ),
    # Bitrate (Instagram ≤25 Mbps): lossless noise, 1 s.
    "noise-60mbps": (
        Video(
            width=480,
            height=360,
            frames=30,
            noise=True,
            audio=None,
            codec_options={"preset": "ultrafast", "qp": "0"},
        ),
        "",
        "bitrate.max duration.min aspect.recommended",
    ),
    # Sound (Instagram: AAC ≤48 kHz, 1-2 channels; TikTok states nothing)
    "aac-44.1khz": (Video(audio_rate=44_100), "", ""),
    "aac-mono": (Video(audio_layout="mono"), "", ""),
    "aac-96khz": (Video(audio_rate=96_000), "", "audio.sample_rate"),
    "aac-5.1": (Video(audio_layout="5.1"), "", "audio.channels"),
    "aac-5.1-96khz": (
        Video(audio_layout="5.1", audio_rate=96_000),
        "",
        "audio.sample_rate audio.channels",
    ),
    "mp3-in-mp4": (Video(audio="libmp3lame", audio_rate=44_100), "", "audio.codec"),
    "opus-in-mp4": (Video(audio="libopus"), "", "audio.codec"),
    "pcm-in-mov": (Video(audio="pcm_s16le", format="mov"), "", "audio.codec"),
}

SUFFIXES = {"mp4": ".mp4", "mov": ".mov", "matroska": ".mkv", "webm": ".webm", "avi": ".avi"}


def build(folder: Path) -> list[Case]:
    cases: list[Case] = []
    for name, (video, tiktok, instagram) in ENCODED.items():
        path = write(folder / f"{name}{SUFFIXES.get(video.format, '.bin')}", video)
        cases.append(Case(name, path, "encoded", OK, _codes(tiktok), _codes(instagram)))
    base = (folder / "base.mp4").read_bytes()
    at_end = (folder / "moov-at-end.mp4").read_bytes()
    webm = (folder / "vp9-webm.webm").read_bytes()
    cases += _structure(folder, base, at_end)
    cases += _truncated(folder, "base", base, reader.ENDS_EARLY)
    cases += _truncated(folder, "moov-at-end", at_end, reader.ENDS_EARLY)
    cases += _truncated(folder, "webm", webm, ANYTHING, count=10)
    cases += _damaged(folder, base)
    cases += _not_videos(folder, base)
    cases += _random(folder)
    return cases


def _case(folder: Path, name: str, data: bytes, group: str, expect: str, **codes: str) -> Case:
    path = folder / f"{name}.mp4"
    path.write_bytes(data)
    return Case(name, path, group, expect, **{k: _codes(v) for k, v in codes.items()})


def _structure(folder: Path, base: bytes, at_end: bytes) -> list[Case]:
    video_timescale = media_timescale_after(base, first_elst(base))
    moov_offset, moov_size = box(base, b"moov")
    ftyp_offset, ftyp_size = box(base, b"ftyp")
    made = [
        # 64-bit box sizes and a last box that runs to the end of the file (size 0).
        _case(
            folder,
            "mdat-64bit-size",
            with_64bit_mdat(at_end),
            "structure",
            OK,
            instagram="mp4.faststart",
        ),
        _case(folder, "mdat-size-0", with_box_size(base, b"mdat", 0), "structure", OK),
        # Real edits: the video skips its first second, plays at double speed, or is empty.
        _case(
            folder,
            "edit-skips-1s",
            patch_first_edit(base, media_time=video_timescale),
            "structure",
            OK,
            instagram="mp4.edit_list",
        ),
        _case(
            folder,
            "edit-double-speed",
            patch_first_edit(base, rate=2),
            "structure",
            OK,
            instagram="mp4.edit_list",
        ),
        _case(
            folder,
            "edit-all-empty",
            patch_first_edit(base, media_time=-1),
            "structure",
            reader.UNDECODABLE,
        ),
        # Brands: QuickTime is MOV, 3GP is neither platform's, HEIC is a still image.
        _case(folder, "brand-qt", with_brand(base, b"qt  "), "structure", OK),
        _case(
            folder,
            "brand-3gp",
            with_brand(base, b"3gp4"),
            "structure",
            OK,
            tiktok="container",
            instagram="container",
        ),
        _case(
            folder,
            "brand-heic",
            with_brand(base, b"heic"),
            "structure",
            reader.NOT_A_VIDEO.format(kind="a HEIC image"),
        ),
        _case(folder, "no-ftyp", with_box_type(base, b"ftyp", b"free"), "structure", OK),
        # Broken boxes.
        _case(folder, "moov-size-4", with_box_size(base, b"moov", 4), "structure", UNREADABLE),
        _case(
            folder,
            "mdat-size-huge",
            with_box_size(base, b"mdat", 0xFFFF_FFF0),
            "structure",
            reader.ENDS_EARLY,
        ),
        _case(
            folder,
            "moov-renamed",
            with_box_type(base, b"moov", b"junk"),
            "structure",
            reader.ENDS_EARLY,
        ),
        _case(
            folder,
            "ftyp-only",
            base[ftyp_offset : ftyp_offset + ftyp_size],
            "structure",
            reader.ENDS_EARLY,
        ),
        _case(
            folder,
            "moov-garbage",
            with_damage(
                base, seed=7, count=400, start=moov_offset + 8, end=moov_offset + moov_size
            ),
            "structure",
            ANYTHING,
        ),
        _case(folder, "nested-box-bomb", _box_bomb(), "structure", UNREADABLE),
        _case(folder, "tiny-boxes", _tiny_boxes(), "structure", UNREADABLE),
    ]
    # Sparse files over Instagram's 300 MB and TikTok's 4 GB: the padding is a 64-bit `free`
    # box, so the file stays valid; FFmpeg rates a file by its size, so the bitrate is over too.
    for name, size, tiktok in (
        ("over-300mb", 300_000_001, ""),
        ("over-4gb", 4_000_000_001, "size.max"),
    ):
        path = folder / f"{name}.mp4"
        with open(path, "wb") as file:
            file.write(base)
            file.write(struct.pack(">I4sQ", 1, b"free", size - len(base)))
            file.truncate(size)
        made.append(
            Case(name, path, "structure", OK, _codes(tiktok), _codes("size.max bitrate.max"))
        )
    return made


def _box_bomb() -> bytes:
    """ftyp, then 2,000 boxes nested in one another."""
    ftyp = struct.pack(">I4s4sI4s", 20, b"ftyp", b"isom", 0, b"isom")
    depth = 2000
    inner = b""
    for level in range(depth):
        inner = (
            struct.pack(">I4s", 8 + len(inner), b"moov" if level == depth - 1 else b"trak") + inner
        )
    return ftyp + inner


def _tiny_boxes() -> bytes:
    """ftyp, then 20,000 empty `free` boxes and nothing else: no index, no media."""
    return struct.pack(">I4s4sI4s", 20, b"ftyp", b"isom", 0, b"isom") + b"\0\0\0\x08free" * 20_000


def _truncated(folder: Path, name: str, data: bytes, expect: str, count: int = 30) -> list[Case]:
    """Copies cut at `count` offsets: spread over the file, plus every top-level box edge."""
    offsets = {1 + (len(data) - 2) * i // (count - 1) for i in range(count)}
    for _, offset, size in top_level_boxes(data):
        offsets |= {offset + 4, offset + 8, offset + size - 1}
    offsets = {offset for offset in offsets if 0 < offset < len(data)}
    return [
        # Under 8 bytes not even the first box header is there to say it was an MP4.
        _case(
            folder,
            f"{name}-cut-at-{offset}",
            data[:offset],
            "truncated",
            expect if offset >= 8 or expect == ANYTHING else UNREADABLE,
        )
        for offset in sorted(offsets)
    ]


def _damaged(folder: Path, base: bytes) -> list[Case]:
    mdat_offset, mdat_size = box(base, b"mdat")
    moov_offset, moov_size = box(base, b"moov")
    made = []
    for seed in range(20):
        data = with_damage(
            base, seed=seed, count=16, start=mdat_offset + 16, end=mdat_offset + mdat_size
        )
        made.append(_case(folder, f"mdat-damaged-{seed}", data, "damaged", ANYTHING))
    for seed in range(20):
        data = with_damage(
            base, seed=100 + seed, count=4, start=moov_offset + 8, end=moov_offset + moov_size
        )
        made.append(_case(folder, f"moov-damaged-{seed}", data, "damaged", ANYTHING))
    return made


def _image(codec: str, size: int = 32) -> bytes:
    context: Any = av.CodecContext.create(codec, "w")
    context.width = context.height = size
    context.pix_fmt = context.codec.video_formats[0].name
    context.time_base = Fraction(1, 25)
    frame = av.VideoFrame(size, size, "yuv420p").reformat(format=context.pix_fmt)
    return b"".join(bytes(packet) for packet in [*context.encode(frame), *context.encode(None)])


def _audio_file(format_name: str, codec: str) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=format_name) as container:
        stream: Any = container.add_stream(codec, rate=48_000)
        stream.layout = "stereo"
        sample_format = av.Codec(codec, "w").audio_formats[0].name
        for index in range(20):
            frame = av.AudioFrame(format=sample_format, layout="stereo", samples=1024)
            for plane in frame.planes:
                plane.update(b"\0" * plane.buffer_size)
            frame.sample_rate = 48_000
            frame.pts = index * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def _audio_with_cover() -> bytes:
    """An M4A with cover art: to FFmpeg, a one-frame MJPEG "video" stream marked as a picture."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        sound: Any = container.add_stream("aac", rate=48_000)
        sound.layout = "stereo"
        cover: Any = container.add_stream("mjpeg", rate=1)
        cover.width = cover.height = 32
        cover.pix_fmt = "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        picture = av.VideoFrame(32, 32, "yuv420p").reformat(format="yuvj420p")
        picture.pts = 0
        container.mux(cover.encode(picture))
        container.mux(cover.encode(None))
        for index in range(20):
            frame = av.AudioFrame(format="fltp", layout="stereo", samples=1024)
            for plane in frame.planes:
                plane.update(b"\0" * plane.buffer_size)
            frame.sample_rate = 48_000
            frame.pts = index * 1024
            container.mux(sound.encode(frame))
        container.mux(sound.encode(None))
    return buffer.getvalue()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("video.mp4", b"not really")
    return buffer.getvalue()


def _wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\0\0" * 800)
    return buffer.getvalue()


def _not_videos(folder: Path, base: bytes) -> list[Case]:
    looks = reader.NOT_A_VIDEO.format
    makers: list[tuple[str, Callable[[], bytes], str]] = [
        ("png", lambda: _image("png"), looks(kind="a PNG image")),
        ("jpeg", lambda: _image("mjpeg"), looks(kind="a JPEG image")),
        ("gif", lambda: _image("gif"), looks(kind="a GIF image")),
        ("tiff", lambda: _image("tiff"), looks(kind="a TIFF image")),
        ("bmp", lambda: _image("bmp"), looks(kind="an image")),
        ("zip", _zip, looks(kind="a ZIP archive")),
        ("zip-of-a-video", lambda: _zip_of(base), looks(kind="a ZIP archive")),
        (
            "pdf",
            lambda: b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n",
            looks(kind="a PDF document"),
        ),
        (
            "html",
            lambda: b"<!doctype html><html><body>Not a video</body></html>\n",
            looks(kind="a text file"),
        ),
        (
            "text-with-emoji",
            lambda: "Caption draft 🎬 for the launch\n".encode() * 4,
            looks(kind="a text file"),
        ),
        ("program", lambda: Path(sys.executable).read_bytes()[:65_536], looks(kind="a program")),
        ("wav", _wav, looks(kind="a WAV audio file")),
        ("mp3", lambda: _audio_file("mp3", "libmp3lame"), looks(kind="an MP3 audio file")),
        ("flac", lambda: _audio_file("flac", "flac"), looks(kind="a FLAC audio file")),
        ("ogg-opus", lambda: _audio_file("ogg", "libopus"), reader.ONLY_SOUND),
        ("m4a", lambda: _audio_file("mp4", "aac"), reader.ONLY_SOUND),
        ("m4a-with-cover-art", _audio_with_cover, reader.ONLY_SOUND),
        ("empty", lambda: b"", reader.EMPTY),
    ]
    made = []
    for name, make, expect in makers:
        data = make()
        made.append(_case(folder, f"not-a-video-{name}", data, "not-video", expect))
    return made


def _zip_of(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("video.mp4", data)
    return buffer.getvalue()


def _random(folder: Path) -> list[Case]:
    made = []
    for seed in range(4):
        for size in (1, 7, 8, 100, 4096, 1 << 20):
            data = random.Random(seed).randbytes(size)
            made.append(_case(folder, f"random-{seed}-{size}", data, "random", UNREADABLE))
    return made
