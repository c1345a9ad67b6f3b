"""Fixtures: a fake of the one HTTP seam (`apps.common.http.request`), pinned platform settings."""

from __future__ import annotations

from typing import Any

import pytest

from tests.platforms.fakes import BASE_URLS, FakeHttp


@pytest.fixture
def fake_http(monkeypatch: pytest.MonkeyPatch) -> FakeHttp:
    fake = FakeHttp()
    monkeypatch.setattr("apps.common.http.request", fake)
    return fake


@pytest.fixture(autouse=True)
def platform_settings(settings: Any) -> Any:
    settings.PLATFORM_BASE_URLS = dict(BASE_URLS)
    settings.TIKTOK_CLIENT_KEY = "ck-test"
    settings.TIKTOK_CLIENT_SECRET = "cs-test"
    settings.INSTAGRAM_APP_ID = "1234"
    settings.INSTAGRAM_APP_SECRET = "ig-secret"
    settings.INSTAGRAM_GRAPH_VERSION = "v23.0"
    return settings
