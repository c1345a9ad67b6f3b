"""probe_file() on real files made with PyAV (tests/publishing/corpus.py), and the MP4 box and
file-type readers on hand-built bytes."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import pytest

from apps.publishing.probe import MediaProbe, UnreadableMedia, boxes, probe_file, sniff
from tests.publishing.corpus import Case


def probe(corpus: dict[str, Case], name: str) -> MediaProbe:
    return probe_file(corpus[name].path)


def reason(path: Path) -> str:
    with pytest.raises(UnreadableMedia) as caught:
        probe_file(path)
    return str(caught.value)


def test_it_reads_a_clean_mp4(corpus: dict[str, Case]) -> None:
    path = corpus["base"].path
    result = probe_file(path)
    assert result.container == "mp4"
    assert result.size_bytes == path.stat().st_size
    assert result.duration_s == pytest.approx(3.2, abs=0.02)
    assert (result.video_codec, result.pixel_format) == ("h264", "yuv420p")
    assert result.video_profile  # x264's ultrafast: "Constrained Baseline"
    assert (result.width, result.height, result.rotation) == (360, 640, 0)
    assert result.fps_avg == 30
    assert not result.variable_frame_rate and not result.interlaced
    assert 0 < result.bitrate_bps < 1_000_000
    assert (result.audio_codec, result.audio_sample_rate_hz, result.audio_channels) == (
        "aac",
        48_000,
        2,
    )
    assert result.faststart
    # AAC's priming samples: an edit list, but only the encoder delay.
    assert result.has_edit_list and result.edit_list == "delay"
    assert MediaProbe.from_dict(result.to_dict()) == result


@pytest.mark.parametrize(
    ("name", "container"),
    [
        ("mov", "mov"),
        ("brand-qt", "mov"),
        ("no-ftyp", "mov"),  # old QuickTime files have no ftyp
        ("brand-3gp", "3gp"),
        ("mkv", "mkv"),
        ("vp9-webm", "webm"),
        ("mpeg4-avi", "avi"),
        ("mpeg2-ts", "ts"),
        ("flv", "flv"),
    ],
)
def test_it_names_the_container_by_brand_and_doctype(
    corpus: dict[str, Case], name: str, container: str
) -> None:
    assert probe(corpus, name).container == container


@pytest.mark.parametrize(
    ("name", "codec", "profile", "pixel_format"),
    [
        ("hevc", "hevc", "Main", "yuv420p"),
        ("hevc-10bit", "hevc", "Main 10", "yuv420p10le"),
        ("h264-10bit", "h264", "High 10", "yuv420p10le"),
        ("h264-444", "h264", "High 4:4:4 Predictive", "yuv444p"),
        ("h264-422", "h264", "High 4:2:2", "yuv422p"),
        ("vp9-in-mp4", "vp9", "Profile 0", "yuv420p"),
        ("av1-mp4", "av1", "Main", "yuv420p"),  # the codec, not the decoder (libdav1d)
        ("prores-mov", "prores", "Standard", "yuv422p10le"),
    ],
)
def test_it_reads_codec_profile_and_pixel_format(
    corpus: dict[str, Case], name: str, codec: str, profile: str, pixel_format: str
) -> None:
    result = probe(corpus, name)
    assert (result.video_codec, result.video_profile, result.pixel_format) == (
        codec,
        profile,
        pixel_format,
    )


@pytest.mark.parametrize(
    ("name", "fps"),
    [
        ("15fps", 15),
        ("23.976fps", 23.976),
        ("29.97fps", 29.97),
        ("59.94fps", 59.94),
        ("120fps", 120),
    ],
)
def test_it_reads_the_average_frame_rate(corpus: dict[str, Case], name: str, fps: float) -> None:
    result = probe(corpus, name)
    assert result.fps_avg == pytest.approx(fps, abs=0.001)
    assert not result.variable_frame_rate


def test_it_tells_a_variable_frame_rate(corpus: dict[str, Case]) -> None:
    result = probe(corpus, "vfr-24")  # frames of 33 and 50 ms, alternating
    assert result.variable_frame_rate
    assert result.fps_avg == pytest.approx(24.1, abs=0.3)


@pytest.mark.parametrize(
    ("name", "rotation", "display"),
    [
        ("640x360-rotated-90", 90, (360, 640)),
        ("640x360-rotated-270", 270, (360, 640)),
        ("360x640-rotated-180", 180, (360, 640)),
        ("360x640-rotated-90", 90, (640, 360)),
        ("640x360", 0, (640, 360)),
    ],
)
def test_it_reads_the_rotation_and_the_shown_size(
    corpus: dict[str, Case], name: str, rotation: int, display: tuple[int, int]
) -> None:
    result = probe(corpus, name)
    assert result.rotation == rotation
    assert (result.display_width, result.display_height) == display


@pytest.mark.parametrize(
    ("name", "interlaced"),
    [("interlaced", True), ("interlaced-mpeg2-ts", True), ("base", False), ("mpeg2-ts", False)],
)
def test_it_tells_interlaced_video(corpus: dict[str, Case], name: str, interlaced: bool) -> None:
    assert probe(corpus, name).interlaced is interlaced


@pytest.mark.parametrize(
    ("name", "seconds"), [("2.9s", 2.9), ("3.0s", 3.0), ("91s", 91.0), ("900.5s", 900.5)]
)
def test_it_reads_the_duration(corpus: dict[str, Case], name: str, seconds: float) -> None:
    assert probe(corpus, name).duration_s == pytest.approx(seconds, abs=0.001)


@pytest.mark.parametrize(
    ("name", "sound"),
    [
        ("no-audio", ("", 0, 0)),
        ("aac-mono", ("aac", 48_000, 1)),
        ("aac-44.1khz", ("aac", 44_100, 2)),
        ("aac-96khz", ("aac", 96_000, 2)),
        ("aac-5.1", ("aac", 48_000, 6)),
        ("mp3-in-mp4", ("mp3", 44_100, 2)),
        ("opus-in-mp4", ("opus", 48_000, 2)),
        ("pcm-in-mov", ("pcm_s16le", 48_000, 2)),
    ],
)
def test_it_reads_the_sound(
    corpus: dict[str, Case], name: str, sound: tuple[str, int, int]
) -> None:
    result = probe(corpus, name)
    assert (result.audio_codec, result.audio_sample_rate_hz, result.audio_channels) == sound
    assert result.has_audio is bool(sound[0])


@pytest.mark.parametrize(
    ("name", "faststart"),
    [
        ("base", True),
        ("moov-at-end", False),
        ("mov-moov-at-end", False),
        ("fragmented", True),
        ("mdat-64bit-size", False),  # a 64-bit mdat header, read past correctly
        ("mdat-size-0", True),  # mdat "to the end of the file"
        ("vp9-webm", False),  # not an MP4: the question does not apply
    ],
)
def test_it_tells_whether_the_index_comes_first(
    corpus: dict[str, Case], name: str, faststart: bool
) -> None:
    assert probe(corpus, name).faststart is faststart


@pytest.mark.parametrize(
    ("name", "edit_list"),
    [
        ("no-audio", ""),  # x264 ultrafast: no B-frames, an identity edit
        ("base", "delay"),  # AAC priming
        ("b-frames", "delay"),  # B-frame delay
        ("delayed-start", "edit"),  # an empty edit: the video starts 1 s late
        ("edit-skips-1s", "edit"),
        ("edit-double-speed", "edit"),
        ("vp9-webm", ""),
    ],
)
def test_it_tells_a_real_edit_list_from_the_encoder_delay(
    corpus: dict[str, Case], name: str, edit_list: str
) -> None:
    result = probe(corpus, name)
    assert result.edit_list == edit_list
    assert result.has_edit_list is bool(edit_list)


def test_it_reads_the_overall_bitrate(corpus: dict[str, Case]) -> None:
    assert probe(corpus, "noise-60mbps").bitrate_bps > 25_000_000
    assert probe(corpus, "over-300mb").size_bytes == 300_000_001


def test_it_reads_an_8k_frame(corpus: dict[str, Case]) -> None:
    result = probe(corpus, "8k")
    assert (result.width, result.height) == (7680, 4320)


# --- Unreadable files, in words a person understands -----------------------------------------


def test_it_names_the_wrong_files_people_upload(corpus: dict[str, Case]) -> None:
    assert (
        reason(corpus["not-a-video-png"].path)
        == "This file is not a video (it looks like a PNG image)."
    )
    assert (
        reason(corpus["not-a-video-zip"].path)
        == "This file is not a video (it looks like a ZIP archive)."
    )
    assert (
        reason(corpus["brand-heic"].path)
        == "This file is not a video (it looks like a HEIC image)."
    )


def test_it_says_a_cut_file_ends_early(corpus: dict[str, Case]) -> None:
    cut = [
        case for case in corpus.values() if case.group == "truncated" and "webm" not in case.name
    ]
    assert len(cut) > 50
    for case in cut:
        if case.path.stat().st_size >= 8:
            assert reason(case.path) == "The file ends early — it may not have finished uploading."


def test_it_says_when_there_is_no_video_track(corpus: dict[str, Case]) -> None:
    assert reason(corpus["not-a-video-m4a"].path).startswith("No video track in this file")
    assert reason(corpus["not-a-video-ogg-opus"].path).startswith("No video track in this file")
    # Cover art is a one-frame "video" stream to FFmpeg, not a video.
    assert reason(corpus["not-a-video-m4a-with-cover-art"].path).startswith(
        "No video track in this file"
    )


def test_it_says_an_empty_or_missing_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert reason(empty).startswith("The file is empty")
    assert reason(tmp_path / "missing.mp4").startswith("The file could not be opened")


def test_it_never_lets_a_raw_error_out(
    corpus: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug deep in a demuxer")

    monkeypatch.setattr(av, "open", explode)
    assert reason(corpus["base"].path) == (
        "We couldn't read this file as a video — it may be damaged."
    )


def test_it_says_when_checking_needs_too_much_memory(
    corpus: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhaust(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(av, "open", exhaust)
    assert "more memory" in reason(corpus["base"].path)


# --- MP4 boxes, hand-built ---------------------------------------------------------------------


def mp4_box(kind: bytes, payload: bytes = b"", *, large: bool = False) -> bytes:
    if large:
        return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


FTYP = mp4_box(b"ftyp", b"isom\0\0\0\0isom")


def scan_bytes(tmp_path: Path, data: bytes) -> boxes.BoxScan:
    path = tmp_path / "file.mp4"
    path.write_bytes(data)
    return boxes.scan(str(path), len(data))


def test_boxes_read_64bit_sizes(tmp_path: Path) -> None:
    data = FTYP + mp4_box(b"moov", large=True) + mp4_box(b"mdat", b"x" * 40, large=True)
    scan = scan_bytes(tmp_path, data)
    assert (scan.is_iso_bmff, scan.major_brand, scan.truncated, scan.reached_end) == (
        True,
        "isom",
        False,
        True,
    )
    assert (scan.moov_offset, scan.mdat_offset, scan.faststart) == (len(FTYP), len(FTYP) + 16, True)


def test_boxes_read_a_last_box_that_runs_to_the_end(tmp_path: Path) -> None:
    scan = scan_bytes(tmp_path, FTYP + mp4_box(b"moov") + b"\0\0\0\0mdat" + b"x" * 100)
    assert (scan.mdat_offset, scan.truncated, scan.reached_end) == (len(FTYP) + 8, False, True)
    scan = scan_bytes(tmp_path, FTYP + b"\0\0\0\0mdat" + b"x" * 100 + mp4_box(b"moov"))
    assert scan.moov_offset is None  # swallowed by the mdat that runs to the end
    assert not scan.faststart


@pytest.mark.parametrize(
    "data",
    [
        FTYP + mp4_box(b"moov") + struct.pack(">I4s", 1000, b"mdat") + b"x" * 10,  # past the end
        FTYP + mp4_box(b"moov") + struct.pack(">I4s", 1, b"mdat") + b"\0\0",  # cut 64-bit size
        FTYP + mp4_box(b"moov") + b"\0\0\0",  # a header cut after 3 bytes
    ],
    ids=["box-past-the-end", "cut-64bit-size", "cut-header"],
)
def test_boxes_tell_a_cut_file(tmp_path: Path, data: bytes) -> None:
    assert scan_bytes(tmp_path, data).truncated


def test_boxes_stop_at_a_size_smaller_than_its_header(tmp_path: Path) -> None:
    scan = scan_bytes(tmp_path, FTYP + struct.pack(">I4s", 4, b"moov") + b"x" * 20)
    assert scan.malformed and not scan.truncated


def test_boxes_do_not_take_other_files_for_mp4(tmp_path: Path) -> None:
    assert not scan_bytes(tmp_path, b"\x1a\x45\xdf\xa3" + b"\0" * 40).is_iso_bmff  # Matroska
    assert not scan_bytes(tmp_path, b"\0\0\0").is_iso_bmff


def elst(entries: list[tuple[int, int, int]], *, version: int = 0) -> bytes:
    packed = b"".join(
        struct.pack(">QqhH" if version else ">IihH", duration, media_time, rate, 0)
        for duration, media_time, rate in entries
    )
    return mp4_box(b"elst", bytes([version, 0, 0, 0]) + struct.pack(">I", len(entries)) + packed)


def trak(edit: bytes | None, *, timescale: int = 48_000, duration: int = 48_000 * 10) -> bytes:
    mdhd = mp4_box(b"mdhd", bytes(4) + struct.pack(">IIII", 0, 0, timescale, duration) + bytes(4))
    parts = ([mp4_box(b"edts", edit)] if edit is not None else []) + [mp4_box(b"mdia", mdhd)]
    return mp4_box(b"trak", b"".join(parts))


def moov_with(*traks: bytes) -> bytes:
    mvhd = mp4_box(b"mvhd", bytes(4) + struct.pack(">IIII", 0, 0, 1000, 10_000) + bytes(80))
    return mp4_box(b"moov", mvhd + b"".join(traks))


@pytest.mark.parametrize(
    ("traks", "expected"),
    [
        ((trak(None),), ""),
        ((trak(elst([(10_000, 0, 1)])),), ""),  # identity
        ((trak(elst([(9_979, 1024, 1)])),), "delay"),  # AAC priming (21 ms)
        ((trak(elst([(9_979, 1024, 1)], version=1)),), "delay"),  # 64-bit entries
        ((trak(elst([(9_000, 48_000, 1)])),), "edit"),  # skips 1 s
        ((trak(elst([(1_000, -1, 1), (10_000, 0, 1)])),), "edit"),  # starts 1 s late
        ((trak(elst([(5_000, 0, 1), (5_000, 0, 1)])),), "edit"),  # plays twice
        ((trak(elst([(5_000, 0, 2)])),), "edit"),  # double speed
        ((trak(elst([(7_000, 0, 1)])),), "edit"),  # the last 3 s cut off
        ((trak(None), trak(elst([(9_979, 1024, 1)]))), "delay"),  # the worst track counts
        ((trak(elst([(9_979, 1024, 1)])), trak(elst([(9_000, 48_000, 1)]))), "edit"),
    ],
)
def test_boxes_classify_edit_lists(tmp_path: Path, traks: tuple[bytes, ...], expected: str) -> None:
    data = FTYP + moov_with(*traks) + mp4_box(b"mdat", b"x")
    assert scan_bytes(tmp_path, data).edit_list == expected


def test_boxes_treat_an_unreadable_edit_list_as_an_edit(tmp_path: Path) -> None:
    lying = mp4_box(b"elst", bytes(4) + struct.pack(">I", 1000) + bytes(12))  # 1,000 claimed
    data = FTYP + moov_with(trak(lying)) + mp4_box(b"mdat", b"x")
    assert scan_bytes(tmp_path, data).edit_list == "edit"


# --- What a file looks like ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(20), "a PNG image"),
        (b"\xff\xd8\xff\xe0" + bytes(20), "a JPEG image"),
        (b"PK\x03\x04" + bytes(20), "a ZIP archive"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "a WebP image"),
        (b"RIFF\0\0\0\0WAVEfmt ", "a WAV audio file"),
        (b"%PDF-1.7\n" + bytes(20), "a PDF document"),
        ("Größe 🎬 ok\n".encode() * 3, "a text file"),
        (b"\0\0\0\x20ftypisom" + bytes(20), ""),
        (b"RIFF\0\0\0\0AVI LIST", ""),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", ""),
        (b"short", ""),
    ],
)
def test_sniff_names_what_a_file_looks_like(head: bytes, kind: str) -> None:
    assert sniff.looks_like(head) == kind
