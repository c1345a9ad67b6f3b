"""Fixtures for the publishing tests: a private MEDIA_ROOT and upload directory per test, the
probe replaced at its one seam (apps.publishing.assets.probing.probe_media), and the probe corpus
generated once per test session (tests/publishing/corpus.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient

from apps.publishing.assets import probing
from apps.publishing.probe import MediaProbe, UnreadableMedia
from tests.publishing.corpus import Case, build
from tests.publishing.media_helpers import TINY_JPEG, probe_result


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture(autouse=True)
def upload_temp_dir(settings: Any, tmp_path: Path) -> Path:
    """Where uploads stream before they are stored: a test can see that nothing stays there."""
    temp = tmp_path / "uploads"
    temp.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(temp)
    return temp


class FakeProbe:
    """Stands in for probe_isolated: answers `result` (a MediaProbe, or an UnreadableMedia to
    raise) and records each path it was asked to read, with the bytes it found there."""

    def __init__(self) -> None:
        self.result: MediaProbe | UnreadableMedia = probe_result()
        self.poster: bytes | None = TINY_JPEG
        self.calls: list[tuple[str, bytes, float]] = []

    def __call__(self, path: str, *, timeout_s: float) -> tuple[MediaProbe, bytes | None]:
        self.calls.append((path, Path(path).read_bytes(), timeout_s))
        if isinstance(self.result, UnreadableMedia):
            raise self.result
        return self.result, self.poster


@pytest.fixture
def fake_probe(monkeypatch: pytest.MonkeyPatch) -> FakeProbe:
    fake = FakeProbe()
    monkeypatch.setattr(probing, "probe_media", fake)
    return fake


def signed_in(user: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    return {case.name: case for case in build(tmp_path_factory.mktemp("corpus"))}
