"""Delivery against the sandbox over real HTTP: the platform clients talk to the sandbox on
pytest-django's live server, the sandbox fetches our signed media links and sends its webhooks to
our receivers there. Background tasks are captured and run by the test (`Worker`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.connections.conftest import oauth, sandbox  # noqa: F401 - fixtures
from tests.delivery.pipeline import Worker


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
def quick_sandbox(sandbox: Any) -> Any:  # noqa: F811 - the imported fixture
    """The sandbox with processing and moderation that finish at once."""
    sandbox.configure(
        tiktok_processing_seconds=0, tiktok_moderation_seconds=0, instagram_processing_seconds=0
    )
    return sandbox
