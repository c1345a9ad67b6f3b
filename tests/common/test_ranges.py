"""HTTP Range parsing and the ranged file response (apps/common/ranges.py, RFC 9110 §14)."""

from __future__ import annotations

import io

import pytest
from django.test import RequestFactory

from apps.common.ranges import Unsatisfiable, parse_range, ranged_file_response

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "span"),
    [
        ("bytes=0-99", (0, 99)),
        ("bytes=900-", (900, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=-5000", (0, 999)),  # a suffix longer than the file is the whole file
        ("bytes=990-5000", (990, 999)),  # an end past the file is clamped
        ("bytes = 5 - 9", (5, 9)),
        ("bytes=0-0", (0, 0)),
    ],
)
def test_it_reads_a_single_range(header, span):
    assert parse_range(header, SIZE) == span


@pytest.mark.parametrize(
    "header", ["", "bytes=", "bytes=-", "items=0-9", "bytes=9-5", "bytes=0-9,20-29", "bytes=a-b"]
)
def test_it_ignores_what_it_does_not_serve(header):
    assert parse_range(header, SIZE) is None


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1000-2000", "bytes=-0"])
def test_a_range_beyond_the_file_is_unsatisfiable(header):
    with pytest.raises(Unsatisfiable):
        parse_range(header, SIZE)


def _response(headers: dict[str, str], method: str = "get", chunk_size: int = 64):
    data = bytes(range(256)) * 4  # 1024 bytes
    opened: list[io.BytesIO] = []

    def open_file() -> io.BytesIO:
        opened.append(io.BytesIO(data))
        return opened[-1]

    request = getattr(RequestFactory(), method)("/f", headers=headers)
    response = ranged_file_response(
        request,
        open_file=open_file,
        size=len(data),
        content_type="video/mp4",
        etag='"abc"',
        chunk_size=chunk_size,
    )
    return response, data, opened


def test_the_body_streams_in_chunks_of_the_given_size():
    response, data, opened = _response({"Range": "bytes=10-209"})
    chunks = list(response.streaming_content)
    assert [len(c) for c in chunks] == [64, 64, 64, 8]
    assert b"".join(chunks) == data[10:210]
    assert opened[0].closed  # closed once the body is sent


def test_a_head_request_never_opens_the_file():
    response, _, opened = _response({"Range": "bytes=0-9"}, method="head")
    assert response.status_code == 206 and response["Content-Length"] == "10"
    assert opened == []


def test_a_stale_if_range_gets_the_whole_file():
    response, data, _ = _response({"Range": "bytes=0-9", "If-Range": '"other"'})
    assert response.status_code == 200 and b"".join(response.streaming_content) == data
    current, _, _ = _response({"Range": "bytes=0-9", "If-Range": '"abc"'})
    assert current.status_code == 206


def test_a_response_dropped_unsent_still_closes_the_file():
    response, _, opened = _response({})
    # What HttpResponseBase.close() runs, without its request_finished signal (which would
    # close the test database's connection).
    for closer in response._resource_closers:
        closer()
    assert opened[0].closed
