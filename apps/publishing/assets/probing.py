"""The one call from media into the probe, and a local path for it to read.

The probe (apps/publishing/probe.py) reads untrusted files with PyAV in a separate process with
a time limit: `probe_isolated(path, timeout_s) -> (MediaProbe, poster JPEG bytes | None)`,
raising UnreadableMedia with a reason a person understands. Everything here reaches it through
`probe_media()`, the single seam tests replace.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db.models.fields.files import FieldFile

from apps.publishing.probe import MediaProbe, probe_isolated


def probe_media(path: str, *, timeout_s: float) -> tuple[MediaProbe, bytes | None]:
    """Probe the file at `path` in an isolated process; raises UnreadableMedia (the file's
    fault) or OSError (the child could not start: the machine's, so the task is retried)."""
    return probe_isolated(path, timeout_s=timeout_s)


@contextmanager
def local_path(field_file: FieldFile) -> Iterator[str]:
    """A path on this machine holding the stored file: the file itself when the storage is a
    local filesystem, otherwise a temporary copy made in chunks and removed afterwards (the
    probe process needs a path, and object storage has none)."""
    storage, name = field_file.storage, field_file.name or ""
    try:
        path: str | None = storage.path(name)
    except NotImplementedError:
        path = None
    # Some storages name a path that isn't on this machine's disk (InMemoryStorage does).
    if path is not None and os.path.isfile(path):
        yield path
        return
    suffix = Path(name).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix, dir=settings.FILE_UPLOAD_TEMP_DIR) as copy:
        with storage.open(name, "rb") as source:
            for chunk in source.chunks():
                copy.write(chunk)
        copy.flush()
        yield copy.name
