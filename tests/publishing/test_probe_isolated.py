"""probe_isolated(): the probe and the poster in a child process that cannot hang, crash or
fool the caller. Misbehaviour is injected through SWITCHBOARD_PROBE_FAULT, which only tests set."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import av
import pytest

from apps.publishing.probe import UnreadableMedia, isolated, probe_file, probe_isolated
from apps.publishing.probe.poster import poster_size
from apps.publishing.probe.worker import FAULT_ENV
from tests.publishing.corpus import Case
from tests.publishing.media_files import Video, write
from tests.publishing.media_helpers import probe_result

TOO_SLOW = "Checking this file took too long — it may be damaged or unusually complex."
FAILED = "Checking this file failed — it may be damaged."
# Start-up and reaping on a busy two-core machine.
GRACE_S = 2.5


def jpeg_picture(data: bytes, tmp_path: Path) -> Any:
    """The poster decoded back with PyAV (Pillow is not a dependency)."""
    path = tmp_path / "poster.jpg"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        return next(container.decode(video=0))


def mean_luma(frame: Any) -> float:
    plane = frame.planes[0]
    rows = [
        bytes(plane)[row * plane.line_size : row * plane.line_size + frame.width]
        for row in range(frame.height)
    ]
    return sum(sum(row) for row in rows) / (frame.width * frame.height)


def test_it_returns_what_the_probe_in_this_process_sees(corpus: dict[str, Case]) -> None:
    path = corpus["base"].path
    probe, poster = probe_isolated(path)
    assert probe == probe_file(path)
    assert poster is not None and poster.startswith(b"\xff\xd8")


def test_it_returns_the_reason_of_an_unreadable_file(corpus: dict[str, Case]) -> None:
    with pytest.raises(UnreadableMedia) as caught:
        probe_isolated(corpus["not-a-video-png"].path)
    assert str(caught.value) == "This file is not a video (it looks like a PNG image)."


@pytest.mark.parametrize(
    ("name", "size"),
    [("base", (360, 640)), ("640x360-rotated-90", (360, 640)), ("8k", (720, 404))],
)
def test_the_poster_is_upright_and_at_most_720_px(
    corpus: dict[str, Case], tmp_path: Path, name: str, size: tuple[int, int]
) -> None:
    _, poster = probe_isolated(corpus[name].path)
    assert poster is not None
    picture = jpeg_picture(poster, tmp_path)
    assert (picture.width, picture.height) == size


@pytest.mark.parametrize(
    ("frames", "bright_from"),
    [
        (600, 25),  # 20 s: the poster comes from 1 s in, after the dark first 0.83 s
        (96, 8),  # 3.2 s: from 10 % in (0.32 s), after the dark first 0.27 s
    ],
)
def test_the_poster_is_a_frame_from_about_a_second_in(
    tmp_path: Path, frames: int, bright_from: int
) -> None:
    video = write(
        tmp_path / "video.mp4",
        Video(width=64, height=64, frames=frames, audio=None, bright_from=bright_from),
    )
    _, poster = probe_isolated(video)
    assert poster is not None
    assert mean_luma(jpeg_picture(poster, tmp_path)) > 180  # not the dark first frame


def corner_luma(frame: Any, *, right: bool) -> float:
    """Mean luma of the top-left or top-right quarter-by-quarter corner."""
    plane, side = frame.planes[0], min(frame.width, frame.height) // 4
    data = bytes(plane)
    first = frame.width - side if right else 0
    values = [
        data[row * plane.line_size + first + col] for row in range(side) for col in range(side)
    ]
    return sum(values) / len(values)


@pytest.mark.parametrize(("rotation", "right"), [(0, False), (90, True)])
def test_the_poster_is_turned_the_way_the_player_turns_it(
    tmp_path: Path, rotation: int, right: bool
) -> None:
    # A white mark top-left in the stored picture; turned 90° clockwise it shows top-right.
    video = write(
        tmp_path / "video.mp4",
        Video(width=128, height=64, frames=30, audio=None, rotation=rotation, corner_mark=True),
    )
    _, poster = probe_isolated(video)
    assert poster is not None
    picture = jpeg_picture(poster, tmp_path)
    assert corner_luma(picture, right=right) > 180
    assert corner_luma(picture, right=not right) < 80


def test_poster_sizes_keep_the_shape_and_stay_even() -> None:
    assert poster_size(1080, 1920) == (404, 720)
    assert poster_size(7680, 4320) == (720, 404)
    assert poster_size(360, 640) == (360, 640)
    assert poster_size(5, 3) == (4, 2)


# --- A child that hangs, crashes or lies -------------------------------------------------


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    """Every child process probe_isolated starts."""
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def recording_popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        process = real_popen(*args, **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr(isolated.subprocess, "Popen", recording_popen)
    return started


@pytest.mark.parametrize("fault", ["sleep", "spin"])
def test_a_child_that_hangs_is_killed_at_the_time_limit(
    corpus: dict[str, Case],
    monkeypatch: pytest.MonkeyPatch,
    children: list[subprocess.Popen[bytes]],
    fault: str,
) -> None:
    monkeypatch.setenv(FAULT_ENV, fault)
    started = time.monotonic()
    with pytest.raises(UnreadableMedia) as caught:
        probe_isolated(corpus["base"].path, timeout_s=1.5)
    assert time.monotonic() - started < 1.5 + GRACE_S
    assert str(caught.value) == TOO_SLOW
    assert len(children) == 1 and children[0].poll() is not None  # killed and reaped


@pytest.mark.parametrize("fault", ["abort", "segfault", "memory", "garbage", "lie"])
def test_a_child_that_crashes_or_lies_is_an_unreadable_file(
    corpus: dict[str, Case], monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    monkeypatch.setenv(FAULT_ENV, fault)
    started = time.monotonic()
    with pytest.raises(UnreadableMedia) as caught:
        probe_isolated(corpus["base"].path, timeout_s=10)
    assert time.monotonic() - started < 10
    assert str(caught.value) == FAILED


def test_the_child_runs_under_the_memory_limit(corpus: dict[str, Case]) -> None:
    path = corpus["8k"].path
    probe_isolated(path)  # fine within the default limit
    with pytest.raises(UnreadableMedia):
        # The interpreter and PyAV take ~150 MB of address space; an 8K frame needs ~80 MB more.
        probe_isolated(path, memory_bytes=190_000_000)


def test_the_child_sees_none_of_the_parents_settings(
    corpus: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SECRET_KEY", "not-for-the-probe")
    monkeypatch.setenv(FAULT_ENV, "env")
    with pytest.raises(UnreadableMedia) as caught:
        probe_isolated(corpus["base"].path)
    seen = str(caught.value).split()
    assert "PYTHONPATH" in seen and FAULT_ENV in seen
    assert "DJANGO_SECRET_KEY" not in seen


# --- The answer, checked ---------------------------------------------------------------


def answer(**changes: Any) -> bytes:
    probe = probe_result(
        duration_s=3.2, width=360, height=640, bitrate_bps=2500, audio_sample_rate_hz=48_000
    ).to_dict()
    poster = base64.b64encode(b"\xff\xd8\xff\xe0 a jpeg").decode()
    data: dict[str, Any] = {"ok": True, "probe": probe, "poster": poster}
    for key, value in changes.items():
        if key in probe:
            probe[key] = value
        else:
            data[key] = value
    return json.dumps(data).encode()


def test_a_well_formed_answer_is_believed() -> None:
    probe, poster = isolated.parse_answer(answer())
    assert (probe.width, probe.height, probe.audio_codec) == (360, 640, "aac")
    assert poster == b"\xff\xd8\xff\xe0 a jpeg"


@pytest.mark.parametrize(
    "stdout",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"ok": "yes"}',
        b'{"ok": false, "reason": ""}',
        json.dumps({"ok": False, "reason": "x" * 301}).encode(),
        answer(probe=None),
        answer(width="wide"),
        answer(width=True),  # a bool is not a number here
        answer(width=0),
        answer(height=-640),
        answer(rotation=45),
        answer(duration_s=float("nan")),
        answer(fps_avg="30"),
        answer(faststart=1),
        answer(video_codec="h" * 500),
        answer(ok=None),
    ],
)
def test_an_answer_that_does_not_check_out_is_a_failure(stdout: bytes) -> None:
    with pytest.raises(UnreadableMedia) as caught:
        isolated.parse_answer(stdout)
    assert str(caught.value) == FAILED


def test_the_childs_own_reason_is_passed_on() -> None:
    with pytest.raises(UnreadableMedia) as caught:
        isolated.parse_answer(b'{"ok": false, "reason": "No video track in this file."}')
    assert str(caught.value) == "No video track in this file."


@pytest.mark.parametrize(
    "poster", [None, 42, "!!!not base64!!!", base64.b64encode(b"GIF89a").decode()]
)
def test_a_poster_that_is_not_a_jpeg_is_dropped(poster: Any) -> None:
    probe, kept = isolated.parse_answer(answer(poster=poster))
    assert probe.width == 360 and kept is None
