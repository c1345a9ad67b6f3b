"""Receiving a video upload: streamed to a temporary file, hashed and counted as it arrives.

Why a Django upload handler (and not a raw-body endpoint): the upload stays an ordinary
multipart form post, so the same view serves the progress-bar widget (XMLHttpRequest +
FormData) and a plain form without JavaScript, and Django's multipart parser does the framing.
The handler sees each chunk once, as Django reads it off the socket: it feeds SHA-256 and a byte
counter and appends the chunk to a temporary file, so memory stays at a few chunks whatever the
file's size. Past the limit it stops the upload at once (StopUpload with connection_reset: the
rest of the body is never read). A body that ends early (the browser went away, the user
cancelled) is an interrupted upload: the temporary file is deleted and nothing else exists yet.

Django's CSRF middleware reads request.POST before the view runs, which would parse the body
with the default handlers; the upload view is therefore csrf_exempt on the outside, installs this
handler, and checks CSRF itself before touching the body (Django docs, "Modifying upload
handlers on the fly").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.http import HttpRequest

# The form field that carries the video (the widget and the no-JavaScript form both use it).
FILE_FIELD = "file"
# Boundaries, part headers and the CSRF field around the file: a Content-Length above
# limit + this is refused before the body is read.
MULTIPART_OVERHEAD = 64 * 1024


def max_upload_bytes() -> int:
    return int(settings.MEDIA_MAX_UPLOAD_BYTES)


def megabytes(size: int) -> str:
    """Decimal units, as the platforms state their limits ("300 MB" = 300,000,000 bytes)."""
    if size < 1_000_000:
        return f"{size / 1000:,.0f} kB"
    value = size / 1_000_000
    return f"{value:,.0f} MB" if value == int(value) else f"{value:,.1f} MB"


def too_large_message(size: int | None = None) -> str:
    limit = megabytes(max_upload_bytes())
    told = f"This file is {megabytes(size)}. " if size else "This file is too large. "
    return f"{told}Videos can be at most {limit} (Instagram's limit for Reels)."


@dataclass(frozen=True)
class ReceivedVideo:
    """A completely received upload, still in its temporary file."""

    file: TemporaryUploadedFile
    name: str
    content_type: str
    size: int
    sha256: str


class VideoUploadHandler(FileUploadHandler):
    """Streams the one `file` part of a multipart body to a temporary file; SHA-256 and size are
    computed on the way; stops the upload as soon as it passes `max_bytes`.

    Other file parts are skipped. The temporary file is kept in `_temp` (not `file`, which
    Django's parser closes on a skipped part) and removed by `discard()`, which the view calls
    whatever happened — after the file has been moved into storage it finds nothing to remove.
    """

    chunk_size = 256 * 1024

    def __init__(self, request: HttpRequest | None = None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0
        self.too_large = False
        self.interrupted = False
        self._digest = hashlib.sha256()
        self._temp: TemporaryUploadedFile | None = None
        self._done = False

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        if field_name != FILE_FIELD or self._temp is not None:
            raise SkipFile
        super().new_file(field_name, file_name, *args, **kwargs)
        self._temp = TemporaryUploadedFile(
            self.file_name or "video", self.content_type or "", 0, self.charset
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        assert self._temp is not None
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.too_large = True
            self.discard()
            # connection_reset: don't read (or store) the rest of an upload we refuse.
            raise StopUpload(connection_reset=True)
        self._digest.update(raw_data)
        self._temp.write(raw_data)

    def file_complete(self, file_size: int) -> TemporaryUploadedFile | None:
        if self._temp is None:
            return None
        self._temp.flush()
        self._temp.seek(0)
        self._temp.size = file_size
        self._done = True
        return self._temp

    def upload_interrupted(self) -> None:
        # The body ended inside the file part: the client went away mid-transfer.
        self.interrupted = True
        self.discard()

    def discard(self) -> None:
        """Remove the temporary file (closing a NamedTemporaryFile deletes it)."""
        if self._temp is not None:
            self._temp.close()
        self._done = False

    def received_video(self) -> ReceivedVideo | None:
        """The upload, when exactly one video part arrived whole; None otherwise."""
        if not self._done or self._temp is None or self.too_large or self.interrupted:
            return None
        return ReceivedVideo(
            file=self._temp,
            name=(self.file_name or "video")[:255],
            content_type=(self.content_type or "")[:100],
            size=self.received,
            sha256=self._digest.hexdigest(),
        )
