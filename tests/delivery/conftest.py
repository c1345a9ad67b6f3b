"""Delivery against the sandbox over real HTTP: the platform clients talk to the sandbox on
pytest-django's live server, the sandbox fetches our signed media links and sends its webhooks to
our receivers there. Background tasks are captured and run by the test (`Worker`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.connections.sandbox import oauth_flow, sandbox_on
from tests.delivery.pipeline import Worker


@pytest.fixture
def sandbox(live_server: Any, transactional_db: None, settings: Any) -> Any:
    return sandbox_on(live_server, settings)


@pytest.fixture
def oauth(sandbox: Any) -> Any:
    return oauth_flow(sandbox)


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def worker() -> Any:
    with Worker.capturing() as running:
        yield running


@pytest.fixture
def quick_sandbox(sandbox: Any) -> Any:
    """The sandbox with processing and moderation that finish at once."""
    sandbox.configure(
        tiktok_processing_seconds=0, tiktok_moderation_seconds=0, instagram_processing_seconds=0
    )
    return sandbox
