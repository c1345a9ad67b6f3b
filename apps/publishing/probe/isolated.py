"""`probe_isolated()`: probe an untrusted file in a child process that cannot hurt the caller.

FFmpeg parses hostile input in C. A file crafted to loop forever, to allocate without end or to
crash the demuxer must cost the caller (a django-q worker) one failed probe, not a hung or dead
process. So the probe and the poster run in `python -m apps.publishing.probe.worker`: a fresh
interpreter with a minimal environment (no settings, no secrets), its own address-space and CPU
limits, killed with its whole process group at the wall-clock limit, and whose JSON answer is
checked field by field before anything believes it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import os
import signal
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from apps.publishing.probe.types import MediaProbe, UnreadableMedia
from apps.publishing.probe.worker import FAULT_ENV

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[3]
WORKER_MODULE = "apps.publishing.probe.worker"

DEFAULT_TIMEOUT_S = 30.0
# Address space of the child. The interpreter and PyAV's libraries take ~150 MB before any work;
# an 8K H.264 frame and its poster take ~80 MB more. [judgment] 1.5 GB leaves room for the
# reference frames of 8K 10-bit HEVC, which phones record, and still stops a runaway decoder.
DEFAULT_MEMORY_BYTES = 1_500_000_000

TOO_SLOW = "Checking this file took too long — it may be damaged or unusually complex."
FAILED = "Checking this file failed — it may be damaged."

MAX_REASON_CHARS = 300
MAX_POSTER_BYTES = 2_000_000
MAX_TEXT_FIELD_CHARS = 100
ROTATIONS = frozenset({0, 90, 180, 270})
# Environment the child gets: enough to run Python, nothing of the parent's configuration.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", FAULT_ENV)


def probe_isolated(
    path: str | Path,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
) -> tuple[MediaProbe, bytes | None]:
    """(probe, poster JPEG or None) for `path`, from a child process limited to `timeout_s`
    of wall-clock time and `memory_bytes` of address space. Every failure the file can cause —
    unreadable, a timeout, a crash, an answer that does not check out — is UnreadableMedia;
    only a child that cannot be started at all (OSError: the machine's fault) propagates."""
    command = [
        sys.executable,
        "-s",  # no user site-packages
        "-m",
        WORKER_MODULE,
        "--memory-bytes",
        str(memory_bytes),
        "--cpu-seconds",
        str(math.ceil(timeout_s) + 1),
        "--",
        os.path.abspath(path),  # the child runs in the project root
    ]
    process = subprocess.Popen(  # noqa: S603 - a fixed command; the path is one argument
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=PROJECT_ROOT,
        env=_child_env(),
        start_new_session=True,  # its own process group, killed as one
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill(process)
        process.communicate()
        logger.warning("media probe of %s killed after %.0f s", path, timeout_s)
        raise UnreadableMedia(TOO_SLOW) from None
    if process.returncode != 0:
        logger.warning(
            "media probe of %s exited with %s: %s",
            path,
            process.returncode,
            stderr[-2000:].decode("utf-8", errors="replace"),
        )
        raise UnreadableMedia(FAILED)
    return parse_answer(stdout)


def _child_env() -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # glibc reserves 64 MB of address space per thread arena; two keep RLIMIT_AS about
    # memory actually used.
    env["MALLOC_ARENA_MAX"] = "2"
    return env


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    except PermissionError:
        process.kill()


def parse_answer(stdout: bytes) -> tuple[MediaProbe, bytes | None]:
    """The child's JSON, checked: a well-formed probe and a JPEG, or its reason."""
    try:
        answer = json.loads(stdout)
    except ValueError:
        raise UnreadableMedia(FAILED) from None
    if not isinstance(answer, dict):
        raise UnreadableMedia(FAILED)
    if answer.get("ok") is False:
        reason = answer.get("reason")
        if isinstance(reason, str) and 0 < len(reason) <= MAX_REASON_CHARS:
            raise UnreadableMedia(reason)
        raise UnreadableMedia(FAILED)
    if answer.get("ok") is not True:
        raise UnreadableMedia(FAILED)
    probe = _checked_probe(answer.get("probe"))
    if probe is None:
        raise UnreadableMedia(FAILED)
    return probe, _checked_poster(answer.get("poster"))


def _checked_value(kind: str, value: Any) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == "float":
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and value >= 0
        )
    if kind == "str":
        return isinstance(value, str) and len(value) <= MAX_TEXT_FIELD_CHARS
    return False


def _checked_probe(data: Any) -> MediaProbe | None:
    if not isinstance(data, dict):
        return None
    values: dict[str, Any] = {}
    for field in fields(MediaProbe):
        if field.name not in data:
            return None
        value = data[field.name]
        if not _checked_value(str(field.type), value):
            return None
        values[field.name] = float(value) if field.type == "float" else value
    probe = MediaProbe(**values)
    if probe.width <= 0 or probe.height <= 0 or probe.rotation not in ROTATIONS:
        return None
    return probe


def _checked_poster(data: Any) -> bytes | None:
    if not isinstance(data, str) or len(data) > MAX_POSTER_BYTES * 4 // 3 + 4:
        return None
    try:
        poster = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return poster if poster.startswith(b"\xff\xd8") else None
