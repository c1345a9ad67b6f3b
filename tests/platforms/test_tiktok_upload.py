"""TikTok FILE_UPLOAD: the chunk plan of PLATFORMS §1.6(d) and the resuming chunked PUT."""

from __future__ import annotations

import io
import itertools

import pytest

from apps.platforms.errors import Category, PlatformError
from apps.platforms.tiktok import rules
from apps.platforms.tiktok.upload import ChunkPlan, plan_chunks, upload_video
from tests.platforms.fakes import FakeHttp

MB = 1_000_000
UPLOAD_URL = "https://upload.tiktok.test/video/?upload_id=1&upload_token=tok"


@pytest.mark.parametrize(
    ("video_size", "chunk_size", "expected_chunk_size", "expected_count", "expected_last"),
    [
        # §1.6(d) "Chunking in practice": anything up to 64,000,000 bytes goes whole, with
        # chunk_size = video_size, whatever chunk size was asked for.
        (1, 10 * MB, 1, 1, 1),
        (5 * MB - 1, 10 * MB, 5 * MB - 1, 1, 5 * MB - 1),
        (10 * MB, 10 * MB, 10 * MB, 1, 10 * MB),
        (50_000_123, 10 * MB, 50_000_123, 1, 50_000_123),
        (64 * MB, 5 * MB, 64 * MB, 1, 64 * MB),
        # Above it: floor(video_size / chunk_size) chunks, the last absorbing the remainder.
        (64 * MB + 1, 10 * MB, 10 * MB, 6, 14 * MB + 1),
        (100 * MB, 10 * MB, 10 * MB, 10, 10 * MB),
        (128 * MB, 64 * MB, 64 * MB, 2, 64 * MB),
        # Largest chunks and the largest last chunk (just under 128 MB).
        (192 * MB - 1, 64 * MB, 64 * MB, 2, 128 * MB - 1),
        # Smallest chunks at the 1000-chunk ceiling.
        (5 * MB * 1000, 5 * MB, 5 * MB, 1000, 5 * MB),
        # TikTok's 4 GB maximum.
        (4_000_000_000, 10 * MB, 10 * MB, 400, 10 * MB),
    ],
)
def test_it_plans_chunks(
    video_size: int,
    chunk_size: int,
    expected_chunk_size: int,
    expected_count: int,
    expected_last: int,
) -> None:
    plan = plan_chunks(video_size=video_size, chunk_size=chunk_size)

    assert (plan.chunk_size, plan.total_chunk_count) == (expected_chunk_size, expected_count)
    chunks = plan.chunks
    assert chunks[-1].size == expected_last
    assert sum(chunk.size for chunk in chunks) == video_size
    assert chunks[0].first == 0 and chunks[-1].last == video_size - 1
    assert all(a.last + 1 == b.first for a, b in itertools.pairwise(chunks))
    assert chunks[-1].size <= rules.MAX_LAST_CHUNK_BYTES
    if expected_count > 1:
        assert video_size > rules.SINGLE_CHUNK_MAX_BYTES
        assert all(rules.MIN_CHUNK_BYTES <= c.size <= rules.MAX_CHUNK_BYTES for c in chunks[:-1])


def test_it_sends_every_file_up_to_64_mb_whole() -> None:
    assert rules.SINGLE_CHUNK_MAX_BYTES == 64_000_000
    for size in (1, 5 * MB, 20 * MB - 1, 64 * MB):
        assert plan_chunks(video_size=size).total_chunk_count == 1
    assert plan_chunks(video_size=64 * MB + 1).total_chunk_count > 1


@pytest.mark.parametrize(
    ("video_size", "chunk_size"),
    [
        (0, 10 * MB),
        (-1, 10 * MB),
        (50 * MB, 5 * MB - 1),  # chunk below 5 MB
        (100 * MB, 64 * MB + 1),  # chunk above 64 MB
        (5 * MB * 1001, 5 * MB),  # 1001 chunks
        # One chunk over 64 MB: ">64 MB ⇒ must be chunked".
        (100 * MB, 64 * MB),
        (128 * MB - 1, 64 * MB),
    ],
)
def test_it_refuses_a_plan_tiktok_cannot_take(video_size: int, chunk_size: int) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        plan_chunks(video_size=video_size, chunk_size=chunk_size)


def test_it_uses_the_default_chunk_size_above_64_mb() -> None:
    assert plan_chunks(video_size=500 * MB).chunk_size == rules.DEFAULT_CHUNK_BYTES


# --- Upload --------------------------------------------------------------------------------------

# A small plan (the PUT loop does not care about TikTok's byte minimums): 3 chunks of 4 + 4 + 5.
PLAN = ChunkPlan(video_size=13, chunk_size=4, total_chunk_count=3)
VIDEO = b"abcdefghijklm"


def _ranges(fake_http: FakeHttp) -> list[str]:
    return [call.headers["Content-Range"] for call in fake_http.calls]


def test_it_uploads_chunks_in_order_with_content_range(fake_http: FakeHttp) -> None:
    fake_http.reply(206, headers={"Content-Range": "bytes 0-3/13"})
    fake_http.reply(206, headers={"Content-Range": "bytes 0-7/13"})
    fake_http.reply(201)

    result = upload_video(
        upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN, content_type="video/mp4"
    )

    assert result.complete and result.uploaded_bytes == 13
    assert [c.method for c in fake_http.calls] == ["PUT"] * 3
    assert all(c.url == UPLOAD_URL for c in fake_http.calls)  # used verbatim
    assert [c.data for c in fake_http.calls] == [b"abcd", b"efgh", b"ijklm"]
    assert fake_http.calls[2].headers == {
        "Content-Type": "video/mp4",
        "Content-Length": "5",
        "Content-Range": "bytes 8-12/13",
    }
    assert _ranges(fake_http) == ["bytes 0-3/13", "bytes 4-7/13", "bytes 8-12/13"]


def test_it_resumes_from_the_offset_a_416_reports(fake_http: FakeHttp) -> None:
    # We think nothing is uploaded; TikTok already holds the first chunk.
    fake_http.reply(416, headers={"content-range": "bytes 0-3/13"})
    fake_http.reply(206, headers={"Content-Range": "bytes 0-7/13"})
    fake_http.reply(201)

    result = upload_video(upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN)

    assert result.complete
    assert _ranges(fake_http) == ["bytes 0-3/13", "bytes 4-7/13", "bytes 8-12/13"]


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no header at all
        {"Content-Range": "bytes 0-3/13"},  # says it holds less than we sent
        {"Content-Range": "bytes 0-4/13"},  # a byte count rather than the last index
        {"Content-Range": "nonsense"},
    ],
)
def test_it_advances_by_its_own_plan_whatever_a_206_says(
    fake_http: FakeHttp, headers: dict[str, str]
) -> None:
    fake_http.reply(206, headers={"Content-Range": "bytes 0-3/13"})
    fake_http.reply(206, headers=headers)
    fake_http.reply(201)

    result = upload_video(upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN)

    assert result.complete
    assert _ranges(fake_http) == ["bytes 0-3/13", "bytes 4-7/13", "bytes 8-12/13"]


def test_it_takes_a_200_on_the_last_chunk_as_received(fake_http: FakeHttp) -> None:
    fake_http.reply(206).reply(206).reply(200)

    result = upload_video(upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN)

    assert result.complete and result.uploaded_bytes == 13
    assert _ranges(fake_http) == ["bytes 0-3/13", "bytes 4-7/13", "bytes 8-12/13"]


def test_it_takes_a_200_for_a_single_chunk_upload_as_received(fake_http: FakeHttp) -> None:
    fake_http.reply(200)

    result = upload_video(
        upload_url=UPLOAD_URL,
        source=io.BytesIO(VIDEO),
        plan=ChunkPlan(video_size=13, chunk_size=13, total_chunk_count=1),
    )

    assert result.complete
    assert _ranges(fake_http) == ["bytes 0-12/13"]


def test_it_reads_a_200_before_the_last_chunk_as_a_206(fake_http: FakeHttp) -> None:
    fake_http.reply(200).reply(206).reply(201)

    result = upload_video(upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN)

    assert result.complete
    assert _ranges(fake_http) == ["bytes 0-3/13", "bytes 4-7/13", "bytes 8-12/13"]


def test_it_leaves_the_outcome_to_the_status_when_the_last_chunk_gets_a_206(
    fake_http: FakeHttp,
) -> None:
    fake_http.reply(206).reply(206).reply(206)

    result = upload_video(upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN)

    assert (result.complete, result.uploaded_bytes) == (False, 13)
    assert len(fake_http.calls) == 3


def test_it_reports_everything_held_when_a_416_says_so(fake_http: FakeHttp) -> None:
    # Our last PUT landed but its answer was lost; the repeat is told TikTok holds it all.
    fake_http.reply(416, headers={"Content-Range": "bytes 0-12/13"})

    result = upload_video(
        upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN, start_offset=8
    )

    assert (result.complete, result.uploaded_bytes) == (False, 13)


def test_it_resumes_mid_chunk_with_the_rest_of_that_chunk(fake_http: FakeHttp) -> None:
    fake_http.reply(416, headers={"Content-Range": "bytes 0-5/13"})
    fake_http.reply(206, headers={"Content-Range": "bytes 0-7/13"})
    fake_http.reply(201)

    upload_video(upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN)

    assert fake_http.calls[1].data == b"gh"
    assert _ranges(fake_http)[1] == "bytes 6-7/13"


def test_it_starts_from_a_given_offset(fake_http: FakeHttp) -> None:
    fake_http.reply(201)

    upload_video(upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN, start_offset=8)

    assert _ranges(fake_http) == ["bytes 8-12/13"]


def test_it_restarts_from_zero_when_told_nothing_is_held(fake_http: FakeHttp) -> None:
    fake_http.reply(416, headers={"Content-Range": "bytes */13"})
    fake_http.reply(206, headers={"Content-Range": "bytes 0-3/13"})
    fake_http.reply(206, headers={"Content-Range": "bytes 0-7/13"})
    fake_http.reply(201)

    upload_video(upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN, start_offset=4)

    assert _ranges(fake_http) == ["bytes 4-7/13", "bytes 0-3/13", "bytes 4-7/13", "bytes 8-12/13"]


def test_it_restarts_from_zero_on_a_416_without_progress_header(fake_http: FakeHttp) -> None:
    fake_http.reply(416)
    fake_http.reply(206, headers={"Content-Range": "bytes 0-3/13"})
    fake_http.reply(206, headers={"Content-Range": "bytes 0-7/13"})
    fake_http.reply(201)

    upload_video(upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN, start_offset=8)

    assert _ranges(fake_http) == ["bytes 8-12/13", "bytes 0-3/13", "bytes 4-7/13", "bytes 8-12/13"]


def test_it_retries_a_chunk_after_a_5xx_or_a_timeout(fake_http: FakeHttp) -> None:
    fake_http.reply(503)
    fake_http.fail(timeout=True)
    fake_http.reply(206, headers={"Content-Range": "bytes 0-3/13"})
    fake_http.reply(206, headers={"Content-Range": "bytes 0-7/13"})
    fake_http.reply(201)

    result = upload_video(upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN)

    assert result.complete
    assert _ranges(fake_http)[:3] == ["bytes 0-3/13"] * 3


def test_it_gives_up_after_repeated_5xx(fake_http: FakeHttp) -> None:
    fake_http.reply(500).reply(502).reply(503)

    with pytest.raises(PlatformError) as caught:
        upload_video(upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN)

    assert (caught.value.code, caught.value.category) == ("upload_5xx", Category.TRANSIENT)


def test_it_asks_for_a_new_init_when_the_upload_url_expired(fake_http: FakeHttp) -> None:
    fake_http.reply(403)

    with pytest.raises(PlatformError) as caught:
        upload_video(upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN)

    assert caught.value.code == "upload_403"
    assert caught.value.restart is True


def test_it_stops_when_416s_never_make_progress(fake_http: FakeHttp) -> None:
    for _ in range(4):
        fake_http.reply(416, headers={"Content-Range": "bytes */13"})

    with pytest.raises(PlatformError) as caught:
        upload_video(upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO), plan=PLAN)

    assert caught.value.code == "upload_416"
    assert len(fake_http.calls) == 4


def test_it_refuses_a_source_shorter_than_the_plan(fake_http: FakeHttp) -> None:
    with pytest.raises(ValueError, match="shorter"):
        upload_video(
            upload_url=UPLOAD_URL, source=io.BytesIO(VIDEO[:10]), plan=PLAN, start_offset=8
        )
