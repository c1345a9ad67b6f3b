"""Media configuration, read in fresh interpreters: local files by default, any Django storage
backend by MEDIA_STORAGE + MEDIA_STORAGE_OPTIONS, the upload limit from MEDIA_MAX_UPLOAD_BYTES."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOW = (
    "import django, json; django.setup();"
    "from django.conf import settings;"
    "from django.core.files.storage import default_storage as s;"
    "s._setup();"
    "print(json.dumps([type(s._wrapped).__module__ + '.' + type(s._wrapped).__name__,"
    " str(s.location), settings.MEDIA_MAX_UPLOAD_BYTES]))"
)


def settings_with(**environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIA_", "PYTEST"))}
    env.update(
        SWITCHBOARD_TESTING="1",
        SWITCHBOARD_ENV_FILE="",
        DJANGO_SETTINGS_MODULE="config.settings",
        **environment,
    )
    return subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_media_is_stored_on_the_local_disk_by_default():
    result = settings_with(MEDIA_ROOT="/srv/switchboard-media")
    assert result.returncode == 0, result.stderr
    backend, location, limit = json.loads(result.stdout)
    assert backend == "django.core.files.storage.filesystem.FileSystemStorage"
    assert location == "/srv/switchboard-media"
    assert limit == 300_000_000  # Instagram's maximum (PLATFORMS §2.8)


def test_another_storage_backend_and_its_options_come_from_the_environment():
    result = settings_with(
        MEDIA_STORAGE="django.core.files.storage.InMemoryStorage",
        MEDIA_STORAGE_OPTIONS='{"location": "/bucket-root"}',
        MEDIA_MAX_UPLOAD_BYTES="1000000",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "django.core.files.storage.memory.InMemoryStorage",
        "/bucket-root",
        1_000_000,
    ]


def test_options_that_are_not_a_json_object_stop_the_start():
    result = settings_with(MEDIA_STORAGE_OPTIONS="bucket_name=x")
    assert result.returncode != 0
    assert "MEDIA_STORAGE_OPTIONS is not valid JSON" in result.stderr
    result = settings_with(MEDIA_STORAGE_OPTIONS='["x"]')
    assert "MEDIA_STORAGE_OPTIONS must be a JSON object." in result.stderr
