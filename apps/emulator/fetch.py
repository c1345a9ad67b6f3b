"""The sandbox fetching a video over HTTP, as the platform would (PLATFORMS §1.6(e), §2.7)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import requests

from apps.emulator.common import random_token, storage_dir

FETCH_TIMEOUT = (5.0, 60.0)


@dataclass
class FetchResult:
    """`problem` is "" on success, else one of: unreachable, redirect, http_status, too_large,
    timeout."""

    problem: str
    path: Path | None = None
    size: int = 0
    detail: str = ""


def fetch_video(url: str, *, follow_redirects: bool, max_bytes: int) -> FetchResult:
    """Download `url` into sandbox storage; never raises for network problems."""
    try:
        response = requests.get(
            url, stream=True, timeout=FETCH_TIMEOUT, allow_redirects=follow_redirects
        )
    except requests.Timeout:
        return FetchResult("timeout", detail="timed out")
    except requests.RequestException as exc:
        return FetchResult("unreachable", detail=type(exc).__name__)
    with response:
        if 300 <= response.status_code < 400:
            return FetchResult("redirect", detail=f"HTTP {response.status_code}")
        if response.status_code != 200:
            return FetchResult("http_status", detail=f"HTTP {response.status_code}")
        path = storage_dir() / (random_token("fetch-", 12) + ".bin")
        size = 0
        try:
            with path.open("wb") as fh:
                for chunk in response.iter_content(chunk_size=1 << 20):
                    size += len(chunk)
                    if size > max_bytes:
                        fh.close()
                        path.unlink(missing_ok=True)
                        return FetchResult("too_large", size=size)
                    fh.write(chunk)
        except requests.Timeout:
            path.unlink(missing_ok=True)
            return FetchResult("timeout", detail="timed out while reading")
        except requests.RequestException as exc:
            path.unlink(missing_ok=True)
            return FetchResult("unreachable", detail=type(exc).__name__)
    return FetchResult("", path=path, size=size)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
