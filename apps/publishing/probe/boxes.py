"""The MP4/MOV facts FFmpeg does not report, read from the file's boxes (ISO/IEC 14496-12).

Instagram wants the `moov` box before `mdat` ("faststart") and no edit lists (PLATFORMS §2.8);
FFmpeg reads both kinds of file without saying which it saw. Reading the top-level box headers is
cheap — a seek and 16 bytes per box, never the media data — and also tells a file that ends early
(a box that claims more bytes than the file has) from a damaged one.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

# Boxes an ISO BMFF file may start with ("wide", "pnot" and bare "moov"/"mdat" come from old
# QuickTime files without `ftyp`).
FIRST_BOX_TYPES = frozenset(
    {b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"pdin"}
)
# Brands of still images in the same box format (HEIF/HEIC, AVIF): not videos.
IMAGE_BRANDS = {
    b"heic": "a HEIC image",
    b"heix": "a HEIC image",
    b"heim": "a HEIC image",
    b"heis": "a HEIC image",
    b"mif1": "a HEIF image",
    b"msf1": "a HEIF image",
    b"avif": "an AVIF image",
    b"avis": "an AVIF image",
}

# Stop after this many top-level boxes: a real file has a handful, a hostile one could have
# millions of 8-byte boxes.
MAX_TOP_LEVEL_BOXES = 10_000
# `moov` is read whole to find edit lists; a 15-minute 60 fps video's is well under 2 MB.
MAX_MOOV_BYTES = 64_000_000
MAX_NESTED_BOXES = 100_000

# [judgment] A single edit that skips at most this much of the media's start, at normal speed,
# and plays the rest is an encoder delay: the AAC priming samples (1024/2112) or the B-frame
# delay FFmpeg, Apple and most cameras write into nearly every file. Instagram's "no edit lists"
# (§2.8) cannot mean those — the usual fix for a refused Reel, re-encoding with FFmpeg, writes
# exactly such edits — so they are reported as "delay", and anything else (several edits, an
# empty edit that shifts a track, a different speed, a real trim) as "edit".
MAX_ENCODER_DELAY_S = 0.5

EDIT_NONE = ""
EDIT_DELAY = "delay"
EDIT_REAL = "edit"


@dataclass(frozen=True)
class BoxScan:
    is_iso_bmff: bool  # the file starts like an MP4/MOV
    major_brand: str = ""  # ftyp's major brand ("isom", "qt  ", …), "" without ftyp
    image_kind: str = ""  # "a HEIC image", … when the brand is a still-image one
    moov_offset: int | None = None
    mdat_offset: int | None = None
    truncated: bool = False  # a top-level box runs past the end of the file
    reached_end: bool = False  # every top-level box was seen (so a missing moov is missing)
    malformed: bool = False  # a box header that cannot be right (size smaller than its header)
    edit_list: str = EDIT_NONE  # EDIT_NONE, EDIT_DELAY or EDIT_REAL (worst over the tracks)

    @property
    def faststart(self) -> bool:
        """moov comes before mdat (a file without mdat, e.g. fragmented, counts as fast)."""
        if self.moov_offset is None:
            return False
        return self.mdat_offset is None or self.moov_offset < self.mdat_offset

    @property
    def container(self) -> str:
        """Our container name for an ISO BMFF file: "mov" for QuickTime, else "mp4"."""
        if self.major_brand in ("", "qt  "):
            return "mov"
        if self.major_brand.startswith(("3gp", "3g2")):
            return "3gp"
        return "mp4"


def _read_header(file: BinaryIO, offset: int, file_size: int) -> tuple[bytes, int, int] | None:
    """(type, header length, box size) at `offset`; None at the end of the file."""
    file.seek(offset)
    head = file.read(16)
    if len(head) < 8:
        return None
    size, box_type = struct.unpack(">I4s", head[:8])
    header = 8
    if size == 1:
        if len(head) < 16:  # the 64-bit size itself is cut off: claim one byte too many
            return box_type, 16, file_size - offset + 1
        size = struct.unpack(">Q", head[8:16])[0]
        header = 16
    elif size == 0:  # the box runs to the end of the file
        size = file_size - offset
    return box_type, header, size


def scan(path: str, file_size: int) -> BoxScan:
    """Top-level boxes of `path` (`file_size` bytes); never reads media data."""
    with open(path, "rb") as file:
        first = _read_header(file, 0, file_size)
        if first is None or first[0] not in FIRST_BOX_TYPES:
            return BoxScan(is_iso_bmff=False)
        brand = b""
        moov_offset = mdat_offset = None
        moov_range: tuple[int, int] | None = None
        truncated = malformed = reached_end = False
        offset = 0
        for _ in range(MAX_TOP_LEVEL_BOXES):
            found = _read_header(file, offset, file_size)
            if found is None:
                truncated = offset < file_size  # 1-7 stray bytes after the last box
                break
            box_type, header, size = found
            if offset + size > file_size:
                truncated = True
                break
            if size < header:
                malformed = True
                break
            if box_type == b"ftyp" and offset == 0 and size >= 16:
                file.seek(offset + header)
                brand = file.read(4)
            elif box_type == b"moov" and moov_offset is None:
                moov_offset = offset
                moov_range = (offset + header, offset + size)
            elif box_type == b"mdat" and mdat_offset is None:
                mdat_offset = offset
            offset += size
            if offset >= file_size:
                reached_end = True
                break
        edit_list = EDIT_NONE
        if moov_range is not None and moov_range[1] - moov_range[0] <= MAX_MOOV_BYTES:
            file.seek(moov_range[0])
            edit_list = _moov_edit_list(file.read(moov_range[1] - moov_range[0]))
    return BoxScan(
        is_iso_bmff=True,
        major_brand=brand.decode("latin-1"),
        image_kind=IMAGE_BRANDS.get(brand, ""),
        reached_end=reached_end,
        moov_offset=moov_offset,
        mdat_offset=mdat_offset,
        truncated=truncated,
        malformed=malformed,
        edit_list=edit_list,
    )


def _children(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in data[start:end]; stops at damage."""
    end = len(data) if end is None else end
    found: list[tuple[bytes, int, int]] = []
    offset = start
    while offset + 8 <= end and len(found) < MAX_NESTED_BOXES:
        size, box_type = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            if offset + 16 > end:
                break
            size = struct.unpack_from(">Q", data, offset + 8)[0]
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            break
        found.append((box_type, offset + header, offset + size))
        offset += size
    return found


def _child(data: bytes, start: int, end: int, box_type: bytes) -> tuple[int, int] | None:
    for found_type, child_start, child_end in _children(data, start, end):
        if found_type == box_type:
            return child_start, child_end
    return None


def _timescale_and_duration(data: bytes, start: int, end: int) -> tuple[int, int]:
    """(timescale, duration) of an mvhd/mdhd payload; (0, 0) when damaged."""
    if end - start < 4:
        return 0, 0
    version = data[start]
    if version == 1 and end - start >= 32:
        timescale, duration = struct.unpack_from(">IQ", data, start + 20)
        return timescale, duration
    if end - start >= 20:
        timescale, duration = struct.unpack_from(">II", data, start + 12)
        return timescale, duration
    return 0, 0


def _edit_entries(data: bytes, start: int, end: int) -> list[tuple[int, int, float]] | None:
    """(segment duration, media time, rate) of each elst entry; None when damaged."""
    if end - start < 8:
        return None
    version = data[start]
    count = struct.unpack_from(">I", data, start + 4)[0]
    entry_size = 20 if version == 1 else 12
    if count * entry_size > end - start - 8:
        return None
    entries = []
    offset = start + 8
    for _ in range(count):
        if version == 1:
            duration, media_time = struct.unpack_from(">Qq", data, offset)
        else:
            duration, media_time = struct.unpack_from(">Ii", data, offset)
        rate_int, rate_frac = struct.unpack_from(">hH", data, offset + entry_size - 4)
        entries.append((duration, media_time, rate_int + rate_frac / 65536))
        offset += entry_size
    return entries


def _track_edit_list(data: bytes, start: int, end: int, movie_timescale: int) -> str:
    edts = _child(data, start, end, b"edts")
    if edts is None:
        return EDIT_NONE
    elst = _child(data, *edts, b"elst")
    if elst is None:
        return EDIT_NONE
    entries = _edit_entries(data, *elst)
    if entries is None:
        return EDIT_REAL  # an edit list we cannot read is not one Instagram will take
    if not entries:
        return EDIT_NONE
    if len(entries) > 1:
        return EDIT_REAL
    segment, media_time, rate = entries[0]
    if media_time < 0 or rate != 1:  # an empty edit (the track starts late) or a speed change
        return EDIT_REAL
    mdia = _child(data, start, end, b"mdia")
    mdhd = _child(data, *mdia, b"mdhd") if mdia else None
    media_timescale, media_duration = _timescale_and_duration(data, *mdhd) if mdhd else (0, 0)
    if media_timescale <= 0:
        return EDIT_NONE if media_time == 0 else EDIT_REAL
    skipped_s = media_time / media_timescale
    if skipped_s > MAX_ENCODER_DELAY_S:
        return EDIT_REAL
    if movie_timescale > 0 and media_duration > 0 and segment > 0:
        played_s = segment / movie_timescale
        rest_s = (media_duration - media_time) / media_timescale
        if played_s < rest_s - MAX_ENCODER_DELAY_S:  # the end is cut off
            return EDIT_REAL
    return EDIT_NONE if media_time == 0 else EDIT_DELAY


def _moov_edit_list(moov: bytes) -> str:
    """The worst edit list over moov's tracks (EDIT_REAL > EDIT_DELAY > EDIT_NONE)."""
    mvhd = _child(moov, 0, len(moov), b"mvhd")
    movie_timescale = _timescale_and_duration(moov, *mvhd)[0] if mvhd else 0
    kinds = {
        _track_edit_list(moov, start, end, movie_timescale)
        for box_type, start, end in _children(moov)
        if box_type == b"trak"
    }
    for kind in (EDIT_REAL, EDIT_DELAY):
        if kind in kinds:
            return kind
    return EDIT_NONE
