"""Serve a stored file with HTTP Range support (RFC 9110 §14), streamed in chunks.

Video players seek with Range requests, and platforms that fetch a video (Instagram's
`video_url`) may fetch it in parts. One range per request is served; a request for several
ranges gets the whole file (RFC 9110 lets a server ignore Range). The file is never read whole
into memory: the body is a generator over fixed-size reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import IO

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

CHUNK_SIZE = 256 * 1024
_SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    """The Range names no byte of the file (answered with 416)."""


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte a Range header asks for; None to send the whole file
    (no header, a syntax we ignore, or several ranges). Raises Unsatisfiable."""
    match = _SINGLE_RANGE.match(header.strip().replace(" ", ""))
    if not match:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None  # "bytes=-" is not a range
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - suffix), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # invalid: ignore the header
    if first >= size:
        raise Unsatisfiable
    last = int(last_text) if last_text else size - 1
    return first, min(last, size - 1)


class _FileSpan:
    """Bytes first..first+length-1 of an open file, read in chunks. Django calls close() when
    the response is done, whether or not the body was ever iterated (a client that hangs up)."""

    def __init__(self, file: IO[bytes], first: int, length: int, chunk_size: int) -> None:
        self.file, self.first, self.length, self.chunk_size = file, first, length, chunk_size

    def __iter__(self) -> Iterator[bytes]:
        self.file.seek(self.first)
        left = self.length
        while left > 0:
            chunk = self.file.read(min(self.chunk_size, left))
            if not chunk:
                break  # the file shrank under us; the client sees a short body
            left -= len(chunk)
            yield chunk
        self.close()

    def close(self) -> None:
        self.file.close()


def ranged_file_response(
    request: HttpRequest,
    *,
    open_file: Callable[[], IO[bytes]],
    size: int,
    content_type: str,
    etag: str = "",
    cache_control: str = "private, no-cache",
    chunk_size: int = CHUNK_SIZE,
) -> HttpResponseBase:
    """200, 206 or 416 for GET; the same headers without a body for HEAD.

    `open_file` is called only when a body is sent; it may raise FileNotFoundError (the caller
    turns that into a 404). `etag` (quoted) makes If-Range work: a stale If-Range gets the whole
    file, as RFC 9110 §13.1.5 asks.
    """
    span: tuple[int, int] | None = None
    header = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range", "")
    if header and (not if_range or (etag and if_range == etag)):
        try:
            span = parse_range(header, size)
        except Unsatisfiable:
            refused = HttpResponse(status=416)
            refused["Content-Range"] = f"bytes */{size}"
            _common_headers(refused, content_type, etag, cache_control)
            return refused

    first, last = span if span else (0, size - 1)
    length = max(0, last - first + 1)
    response: HttpResponseBase
    if request.method == "HEAD":
        response = HttpResponse(status=206 if span else 200)
    else:
        body = _FileSpan(open_file(), first, length, chunk_size)
        response = StreamingHttpResponse(body, status=206 if span else 200)
    if span:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Content-Length"] = str(length)
    _common_headers(response, content_type, etag, cache_control)
    return response


def _common_headers(
    response: HttpResponseBase, content_type: str, etag: str, cache_control: str
) -> None:
    response["Content-Type"] = content_type
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = cache_control
    if etag:
        response["ETag"] = etag
