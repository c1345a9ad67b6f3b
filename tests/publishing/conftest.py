"""Fixtures for the publishing tests: the platforms faked at the HTTP seam, and preflight made
to answer what a test needs (until the preflight work lands, `run_preflight` is a stub)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from apps.publishing.preflight import Finding, Severity, TargetInput
from tests.platforms.fakes import BASE_URLS
from tests.publishing.fakes import FakePlatforms


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
        self, *, probe: Any, media_error: str = "", targets: list[TargetInput]
    ) -> list[Finding]:
        self.calls.append({"probe": probe, "media_error": media_error, "targets": targets})
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
