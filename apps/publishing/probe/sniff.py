"""What a file that is not a video looks like, from its first bytes.

FFmpeg opens a PNG or JPEG as a one-frame "video", and tries every demuxer it has on anything
else, so the common wrong files are named before FFmpeg sees them: people upload a still, an
archive or a document by mistake, and "it looks like a PNG image" tells them what happened.
"""

from __future__ import annotations

# (prefix, offset, what it looks like). Checked in order; the first match wins.
SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "a PNG image"),
    (b"\xff\xd8\xff", 0, "a JPEG image"),
    (b"GIF87a", 0, "a GIF image"),
    (b"GIF89a", 0, "a GIF image"),
    (b"WEBP", 8, "a WebP image"),
    (b"II*\x00", 0, "a TIFF image"),
    (b"MM\x00*", 0, "a TIFF image"),
    (b"%PDF-", 0, "a PDF document"),
    (b"PK\x03\x04", 0, "a ZIP archive"),
    (b"PK\x05\x06", 0, "a ZIP archive"),
    (b"\x1f\x8b", 0, "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive"),
    (b"Rar!\x1a\x07", 0, "a RAR archive"),
    (b"\x7fELF", 0, "a program"),
    (b"ID3", 0, "an MP3 audio file"),
    (b"fLaC", 0, "a FLAC audio file"),
    (b"WAVE", 8, "a WAV audio file"),
)

TEXT_SAMPLE_BYTES = 512


def looks_like(head: bytes) -> str:
    """What the file starting with `head` is, when it is clearly not a video; "" otherwise."""
    for prefix, offset, kind in SIGNATURES:
        if head[offset : offset + len(prefix)] == prefix:
            return kind
    if _is_text(head[:TEXT_SAMPLE_BYTES]):
        return "a text file"
    return ""


def _is_text(sample: bytes) -> bool:
    if len(sample) < 16:
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        # A sample can end inside a multi-byte character; judge what decodes.
        text = sample[:-3].decode("utf-8", errors="replace")
        if "\ufffd" in text:
            return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)
