"""The probe's child process: `python -m apps.publishing.probe.worker [limits] -- <path>`.

It limits its own memory and CPU time, probes the file, makes the poster and writes one JSON
object to stdout: {"ok": true, "probe": {…}, "poster": "<base64 JPEG>" | null} or
{"ok": false, "reason": "<sentence>"}. The parent (isolated.py) trusts none of it. This module
imports no Django: the child starts fast and never holds settings or secrets.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import sys
import time
from typing import Any, TextIO

from apps.publishing.probe.poster import poster_jpeg
from apps.publishing.probe.reader import probe_file
from apps.publishing.probe.types import UnreadableMedia

# Set only by tests (tests/publishing/test_probe_isolated.py) to make the child misbehave the
# way a hostile file could: hang, crash, eat memory or answer nonsense. The parent passes it
# through only when it is set in its own environment.
FAULT_ENV = "SWITCHBOARD_PROBE_FAULT"


def limit_resources(*, memory_bytes: int, cpu_seconds: int) -> None:
    """Address-space and CPU-time limits, and no core dumps of a crash."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def inject_fault(name: str, *, memory_bytes: int, out: TextIO) -> None:
    if name == "sleep":
        time.sleep(3600)
    elif name == "spin":
        while True:
            pass
    elif name == "abort":
        os.abort()
    elif name == "segfault":
        import ctypes

        ctypes.string_at(0)
    elif name == "memory":
        hog = bytearray(memory_bytes * 2)  # more than the limit allows
        hog[-1] = 1
    elif name == "garbage":
        out.write("this is not JSON")
        out.flush()
        sys.exit(0)
    elif name == "env":  # what the child can see of the parent's environment
        out.write(json.dumps({"ok": False, "reason": " ".join(sorted(os.environ))[:300]}))
        out.flush()
        sys.exit(0)
    elif name == "lie":
        out.write(json.dumps({"ok": True, "probe": {"width": "wide"}, "poster": None}))
        out.flush()
        sys.exit(0)


def run(path: str) -> dict[str, Any]:
    try:
        probe = probe_file(path)
    except UnreadableMedia as exc:
        return {"ok": False, "reason": str(exc)}
    try:
        poster = poster_jpeg(path, probe)
    except Exception:
        poster = None  # no poster is not a reason to refuse a readable video
    return {
        "ok": True,
        "probe": probe.to_dict(),
        "poster": base64.b64encode(poster).decode("ascii") if poster else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="apps.publishing.probe.worker")
    parser.add_argument("--memory-bytes", type=int, required=True)
    parser.add_argument("--cpu-seconds", type=int, required=True)
    parser.add_argument("path")
    args = parser.parse_args(argv)
    # The answer goes to a private copy of stdout; anything a library prints lands on stderr.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    limit_resources(memory_bytes=args.memory_bytes, cpu_seconds=args.cpu_seconds)
    fault = os.environ.get(FAULT_ENV, "")
    if fault:
        inject_fault(fault, memory_bytes=args.memory_bytes, out=out)
    out.write(json.dumps(run(args.path)))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
