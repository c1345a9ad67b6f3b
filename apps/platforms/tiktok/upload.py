"""TikTok FILE_UPLOAD transfer: the chunk plan and the chunked PUT (PLATFORMS §1.6(d))."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from apps.common.http import Response
from apps.platforms.errors import Platform, PlatformError
from apps.platforms.tiktok import rules
from apps.platforms.tiktok.errors import upload_error
from apps.platforms.transport import header, send

# [judgment] §1.6(d) shows the reply header as `bytes 0-{n}/{total}` without saying whether n is
# the last byte held or a byte count, and no peer reads it. So we steer by our own chunk plan and
# read it only after a 416, to resume, with HTTP Content-Range semantics (n = inclusive index of
# the last byte held, next byte n + 1). `bytes */{total}` means nothing is held yet.
_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*$", re.IGNORECASE)

# A PUT that times out or gets a 5xx is sent again as is: the server answers a repeat with its
# true progress (206 or 416), so repeating cannot duplicate bytes.
MAX_ATTEMPTS_PER_CHUNK = 3
# 416s in a row before we give up and restart from init.
MAX_RESYNCS = 3


@dataclass(frozen=True)
class Chunk:
    index: int
    first: int  # inclusive byte offsets
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class ChunkPlan:
    """What the init call declares (`video_size`, `chunk_size`, `total_chunk_count`)."""

    video_size: int
    chunk_size: int
    total_chunk_count: int

    @property
    def chunks(self) -> tuple[Chunk, ...]:
        return tuple(self.chunk(i) for i in range(self.total_chunk_count))

    def chunk(self, index: int) -> Chunk:
        first = index * self.chunk_size
        # The last chunk absorbs the remainder (§1.6(d)).
        last = (
            self.video_size - 1
            if index == self.total_chunk_count - 1
            else first + self.chunk_size - 1
        )
        return Chunk(index=index, first=first, last=last)

    def chunk_at(self, offset: int) -> Chunk:
        """The chunk holding byte `offset`."""
        if not 0 <= offset < self.video_size:
            raise ValueError(f"offset {offset} is outside a {self.video_size}-byte video")
        return self.chunk(min(offset // self.chunk_size, self.total_chunk_count - 1))


@dataclass(frozen=True)
class UploadResult:
    uploaded_bytes: int
    # True once TikTok answered 201 (or 200 to the last chunk): all bytes received, processing
    # started. False: every byte was sent but TikTok did not confirm; check fetch_status.
    complete: bool


def plan_chunks(*, video_size: int, chunk_size: int = rules.DEFAULT_CHUNK_BYTES) -> ChunkPlan:
    """The chunking §1.6(d) requires; raises ValueError for a size TikTok cannot take.

    A file of at most `rules.SINGLE_CHUNK_MAX_BYTES` goes whole (`chunk_size = video_size`,
    `total_chunk_count = 1`) whatever `chunk_size` says; only a larger one is split into
    `floor(video_size / chunk_size)` chunks, the last absorbing the remainder.
    """
    if video_size <= 0:
        raise ValueError("video_size must be positive")
    if not rules.MIN_CHUNK_BYTES <= chunk_size <= rules.MAX_CHUNK_BYTES:
        raise ValueError(
            f"chunk_size must be {rules.MIN_CHUNK_BYTES}-{rules.MAX_CHUNK_BYTES} bytes"
        )
    if video_size <= rules.SINGLE_CHUNK_MAX_BYTES:
        return ChunkPlan(video_size=video_size, chunk_size=video_size, total_chunk_count=1)
    count = video_size // chunk_size
    if count < 2:
        # One chunk over 64 MB is exactly what ">64 MB ⇒ must be chunked" forbids.
        raise ValueError(
            f"a video over {rules.SINGLE_CHUNK_MAX_BYTES} bytes must go in at least two "
            f"chunks; use a chunk_size of at most {video_size // 2} bytes"
        )
    if count > rules.MAX_CHUNK_COUNT:
        raise ValueError(f"{count} chunks exceed TikTok's {rules.MAX_CHUNK_COUNT}; use larger ones")
    # last = chunk_size + remainder < 2 x chunk_size ≤ 128 MB, so MAX_LAST_CHUNK_BYTES holds.
    return ChunkPlan(video_size=video_size, chunk_size=chunk_size, total_chunk_count=count)


def upload_chunk(
    *, upload_url: str, data: bytes, first: int, total: int, content_type: str = "video/mp4"
) -> Response:
    """PUT one byte range to the `upload_url` returned by init, used verbatim (§1.1)."""
    last = first + len(data) - 1
    return send(
        Platform.TIKTOK,
        "PUT",
        upload_url,
        data=data,
        headers={
            "Content-Type": content_type,
            "Content-Length": str(len(data)),
            "Content-Range": f"bytes {first}-{last}/{total}",
        },
    )


def reported_offset(response: Response) -> int | None:
    """The next byte TikTok expects, from its `Content-Range` reply header, if it sent one.

    Read after a 416 only (§1.6(d)): a 206's header is not documented precisely enough to steer by.
    """
    value = header(response, "Content-Range")
    match = _RANGE.match(value or "")
    if match is None:
        return None
    return int(match.group(2)) + 1 if match.group(2) is not None else 0


def upload_video(
    *,
    upload_url: str,
    source: BinaryIO,
    plan: ChunkPlan,
    content_type: str = "video/mp4",
    start_offset: int = 0,
    on_progress: Callable[[int], None] | None = None,
) -> UploadResult:
    """Send the file chunk by chunk, following our own plan (§1.6(d)).

    A 206 moves on to the plan's next chunk; 201, or 200 on the last chunk, means TikTok has
    every byte (its status fetch then says how processing goes). Only a 416 makes us read the
    reply's `Content-Range`, to resume where TikTok stands. `start_offset` lets a later attempt
    continue (e.g. from `fetch_status().uploaded_bytes`). `on_progress(bytes_kept)` runs after
    each chunk TikTok kept (the caller's checkpoint; it may raise to stop the upload). Raises
    PlatformError when TikTok refuses (403 expired URL, 404, 400) or keeps failing.
    """
    offset = start_offset
    resyncs = 0
    while True:
        chunk = plan.chunk_at(offset)
        is_last = chunk.index == plan.total_chunk_count - 1
        source.seek(offset)
        # From the offset to the end of its chunk: a mid-chunk resume sends the chunk's rest.
        data = source.read(chunk.last - offset + 1)
        if len(data) != chunk.last - offset + 1:
            raise ValueError("the source is shorter than the planned video_size")
        response = _put_with_retries(upload_url, data, offset, plan.video_size, content_type)
        status = response.status
        if status == 201 or (status == 200 and is_last):
            # One peer sees 200 where the docs say 201; either way TikTok holds every byte.
            return UploadResult(uploaded_bytes=plan.video_size, complete=True)
        if status in (200, 206):
            # A 200 before the last chunk is read as the documented 206: chunk kept, go on.
            resyncs = 0
            if is_last:
                # TikTok still expects bytes we do not have: processing state is unknown, so
                # the caller checks fetch_status rather than re-sending.
                return UploadResult(uploaded_bytes=plan.video_size, complete=False)
            offset = chunk.last + 1
            if on_progress is not None:
                on_progress(offset)
            continue
        if status != 416:
            raise upload_error(response)
        # 416: our range does not continue TikTok's progress; its header says where it stands.
        # Without one, start over (bounded by MAX_RESYNCS like every 416).
        resyncs += 1
        if resyncs > MAX_RESYNCS:
            raise upload_error(response)
        server_offset = reported_offset(response)
        if server_offset is None:
            server_offset = 0
        if server_offset >= plan.video_size:
            # TikTok already holds every byte (e.g. our last PUT's answer was lost).
            return UploadResult(uploaded_bytes=plan.video_size, complete=False)
        offset = server_offset


def _put_with_retries(
    upload_url: str, data: bytes, first: int, total: int, content_type: str
) -> Response:
    for attempt in range(1, MAX_ATTEMPTS_PER_CHUNK + 1):
        try:
            response = upload_chunk(
                upload_url=upload_url,
                data=data,
                first=first,
                total=total,
                content_type=content_type,
            )
        except PlatformError:
            if attempt == MAX_ATTEMPTS_PER_CHUNK:
                raise
            continue
        if response.status < 500 or attempt == MAX_ATTEMPTS_PER_CHUNK:
            return response
    raise AssertionError("unreachable")  # pragma: no cover
