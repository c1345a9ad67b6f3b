"""The sandbox's own media checks (PLATFORMS §1.6(g), §2.8) on generated videos."""

from __future__ import annotations

from pathlib import Path

from apps.emulator import media
from tests.emulator.videos import make_video


def test_a_good_video_passes_both(tmp_path: Path) -> None:
    path = tmp_path / "good.mp4"
    make_video(path)
    probe = media.probe_file(path)
    assert probe.readable and probe.video_codec == "h264" and probe.moov_before_mdat
    assert not probe.has_edit_list and probe.audio[0].codec == "aac"
    assert media.check_tiktok(probe, max_duration_sec=300) == ""
    assert media.check_instagram(probe) == ""


def test_garbage_is_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "junk.mp4"
    path.write_bytes(b"not a video at all" * 100)
    probe = media.probe_file(path)
    assert not probe.readable
    assert media.check_tiktok(probe, max_duration_sec=300) == "file_format_check_failed"
    assert media.check_instagram(probe)


def test_edit_lists_are_detected(tmp_path: Path) -> None:
    import av

    path = tmp_path / "edts.mp4"
    make_video(path)
    # Remux with the muxer's default edit lists on.
    remuxed = tmp_path / "edts2.mp4"
    with (
        av.open(str(path)) as src,
        av.open(str(remuxed), "w", options={"movflags": "faststart"}) as out,
    ):
        streams = {s.index: out.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    probe = media.probe_file(remuxed)
    assert probe.has_edit_list
    assert "Edit lists" in media.check_instagram(probe)
