"""The media probe (DESIGN §4 MediaAsset.probe, §6): what a video file holds, read with PyAV.

- `probe_file(path)` reads a file in this process (types.py, reader.py);
- `probe_isolated(path, timeout_s=…)` is what production code calls on an upload: the probe and
  the poster (poster.py) in a child process with time and memory limits (isolated.py,
  worker.py);
- boxes.py reads the MP4 facts FFmpeg does not report (faststart, edit lists, truncation);
  sniff.py names the wrong files people upload (an image, an archive).
"""

from __future__ import annotations

from apps.publishing.probe.isolated import probe_isolated
from apps.publishing.probe.reader import probe_file
from apps.publishing.probe.types import MediaProbe, UnreadableMedia

__all__ = ["MediaProbe", "UnreadableMedia", "probe_file", "probe_isolated"]
