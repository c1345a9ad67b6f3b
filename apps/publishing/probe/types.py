"""What the media probe learns about a video file (DESIGN §4 MediaAsset.probe, §6).

`MediaProbe` is the probe's result as data; preflight reads it, the asset stores it as a dict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


class UnreadableMedia(Exception):
    """The file is not a video we can read; the message says why, for people."""


@dataclass(frozen=True)
class MediaProbe:
    # Container as PyAV names its format ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm") reduced to
    # one of our names: "mp4", "mov", "webm", "mkv", "avi", … ("" when unknown).
    container: str
    size_bytes: int
    duration_s: float
    # Video stream (the first one).
    video_codec: str  # "h264", "hevc", "vp9", …
    video_profile: str  # "High", "Main 10", … ("" when unknown)
    pixel_format: str  # "yuv420p", "yuv420p10le", "yuv444p", …
    width: int  # as stored, before rotation
    height: int
    rotation: int  # degrees from the display matrix: 0, 90, 180, 270
    fps_avg: float
    variable_frame_rate: bool
    interlaced: bool
    bitrate_bps: int  # overall (container) bitrate, 0 when unknown
    # Audio stream (the first one), all empty/0 when the file has none.
    audio_codec: str
    audio_sample_rate_hz: int
    audio_channels: int
    # MP4/MOV structure: the moov atom comes before mdat (faststart); an edit list is present.
    faststart: bool
    has_edit_list: bool
    # What the edit list does (apps/publishing/probe/boxes.py): "" none, "delay" only the
    # encoder delay nearly every file carries, "edit" a real edit. Probes stored before this
    # field existed read as "" and fall back on `has_edit_list`.
    edit_list: str = ""

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_codec)

    @property
    def display_width(self) -> int:
        """Width as shown, after rotation metadata is applied."""
        return self.height if self.rotation % 180 == 90 else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation % 180 == 90 else self.height

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaProbe:
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})
