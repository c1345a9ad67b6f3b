"""Fixtures for the publishing tests: a private MEDIA_ROOT and upload directory per test, the
probe replaced at its one seam (apps.publishing.assets.probing.probe_media), the probe corpus
generated once per test session (tests/publishing/corpus.py), the platforms faked at the HTTP seam,
and preflight made to answer what a test needs (the `preflight` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient

from apps.publishing.assets import probing
from apps.publishing.preflight import Finding, Severity, TargetInput
from apps.publishing.probe import MediaProbe, UnreadableMedia
from tests.platforms.fakes import BASE_URLS
from tests.publishing.corpus import Case, build
from tests.publishing.fakes import FakePlatforms
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


@pytest.fixture
def platforms(monkeypatch: pytest.MonkeyPatch, settings: Any) -> FakePlatforms:
    settings.PLATFORM_BASE_URLS = dict(BASE_URLS)
    fake = FakePlatforms()
    monkeypatch.setattr("apps.common.http.request", fake)
    return fake


@dataclass
class PreflightDouble:
    """Answers `findings` (or what `rule` computes) and records what it was asked."""

    findings: list[Finding] = field(default_factory=list)
    rule: Callable[[Any, list[TargetInput]], list[Finding]] | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(
        self,
        *,
        probe: Any,
        media_error: str = "",
        targets: list[TargetInput],
        media_pending: bool = False,
    ) -> list[Finding]:
        self.calls.append(
            {
                "probe": probe,
                "media_error": media_error,
                "targets": targets,
                "media_pending": media_pending,
            }
        )
        if self.rule is not None:
            return self.rule(probe, targets)
        return list(self.findings)

    def error(self, platform: str = "tiktok", message: str = "Too long for TikTok.") -> Finding:
        finding = Finding(
            platform=platform,
            rule="duration.max",
            severity=Severity.ERROR,
            message=message,
            fix="Trim it.",
        )
        self.findings.append(finding)
        return finding


@pytest.fixture
def preflight(monkeypatch: pytest.MonkeyPatch) -> PreflightDouble:
    double = PreflightDouble()
    monkeypatch.setattr("apps.publishing.composition.run_preflight", double)
    return double
