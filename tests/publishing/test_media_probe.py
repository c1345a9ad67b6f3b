"""The probe task (DESIGN §6 Upload, §10): reads the stored file through the isolated probe,
stores what it found (or why it could not), and the poster; a re-delivered task does nothing.

The probe itself (apps/publishing/probe.py: probe_isolated) is replaced at our one seam,
apps.publishing.assets.probing.probe_media (the `fake_probe` fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from apps.publishing.assets import probing, tasks
from apps.publishing.models import MediaAsset
from apps.publishing.probe import UnreadableMedia
from tests.factories import MediaAssetFactory
from tests.publishing.media_files import Video, write
from tests.publishing.media_helpers import TINY_JPEG, RemoteStorage, probe_result

pytestmark = pytest.mark.django_db

CONTENT = b"\x00\x00\x00\x18ftypisom-a-small-video" * 100


def pending_asset(client_obj, content: bytes = CONTENT) -> MediaAsset:
    asset = MediaAssetFactory(
        client=client_obj,
        probe_state=MediaAsset.ProbeState.PENDING,
        probe={},
        size=len(content),
        file="",
    )
    asset.file.save("clip.mp4", ContentFile(content), save=True)
    return asset


def test_it_stores_the_probe_and_the_poster(client_obj, fake_probe, media_root, settings):
    settings.MEDIA_PROBE_TIMEOUT = 42
    asset = pending_asset(client_obj)
    fake_probe.result = probe_result(duration_s=31.5, width=720, height=1280)

    assert tasks.probe_asset(asset.pk) == "ok"

    asset.refresh_from_db()
    assert asset.probe_state == "ok" and asset.probe_error == ""
    assert asset.probe_result() == fake_probe.result
    assert asset.probed_at is not None
    assert asset.poster.name == f"posters/{client_obj.pk}/{asset.sha256[:2]}/{asset.sha256}.jpg"
    assert (media_root / asset.poster.name).read_bytes() == TINY_JPEG
    # The probe read the stored file itself (local storage), with the configured time limit.
    [(path, seen, timeout)] = fake_probe.calls
    assert Path(path) == media_root / asset.file.name and seen == CONTENT and timeout == 42


def test_an_unreadable_file_is_marked_with_the_reason(client_obj, fake_probe):
    asset = pending_asset(client_obj)
    fake_probe.result = UnreadableMedia("There is no video stream in this file.")

    assert tasks.probe_asset(asset.pk) == "unreadable"

    asset.refresh_from_db()
    assert asset.probe_state == "unreadable"
    assert asset.probe_error == "There is no video stream in this file."
    assert asset.probe == {} and not asset.poster and asset.probed_at is not None


def test_a_probe_without_a_poster_stores_none(client_obj, fake_probe):
    asset = pending_asset(client_obj)
    fake_probe.poster = None
    tasks.probe_asset(asset.pk)
    asset.refresh_from_db()
    assert asset.probe_state == "ok" and not asset.poster


def test_a_redelivered_task_does_nothing(client_obj, fake_probe, media_root):
    asset = pending_asset(client_obj)
    tasks.probe_asset(asset.pk)
    asset.refresh_from_db()
    first = (asset.probed_at, asset.poster.name)

    assert tasks.probe_asset(asset.pk) == "ok"

    asset.refresh_from_db()
    assert len(fake_probe.calls) == 1
    assert (asset.probed_at, asset.poster.name) == first
    assert len(list((media_root / "posters").rglob("*.jpg"))) == 1


def test_of_two_deliveries_running_at_once_only_one_writes(client_obj, media_root, monkeypatch):
    asset = pending_asset(client_obj)
    other_result = probe_result(duration_s=99.0)

    def finished_meanwhile(path, *, timeout_s):
        # The other delivery finishes while this one is still probing.
        MediaAsset.objects.filter(pk=asset.pk).update(
            probe_state="ok", probe=other_result.to_dict()
        )
        return probe_result(duration_s=1.0), TINY_JPEG

    monkeypatch.setattr(probing, "probe_media", finished_meanwhile)
    assert tasks.probe_asset(asset.pk) == "ok"

    asset.refresh_from_db()
    assert asset.probe["duration_s"] == 99.0  # the first write stands
    assert not asset.poster
    assert list((media_root / "posters").rglob("*.jpg")) == []  # our poster was removed again


def test_a_deleted_asset_is_skipped(client_obj, fake_probe):
    asset = pending_asset(client_obj)
    asset_id = asset.pk
    asset.delete()
    assert tasks.probe_asset(asset_id) == "gone"
    assert fake_probe.calls == []


def test_remote_storage_is_copied_to_a_local_temporary_file_for_the_probe(
    client_obj, fake_probe, settings, upload_temp_dir
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.publishing.media_helpers.RemoteStorage"},
    }
    asset = pending_asset(client_obj)
    assert isinstance(asset.file.storage._wrapped, RemoteStorage)
    with pytest.raises(NotImplementedError):
        asset.file.storage.path(asset.file.name)  # object storage has no local path

    assert tasks.probe_asset(asset.pk) == "ok"

    [(path, seen, _)] = fake_probe.calls
    assert seen == CONTENT
    assert Path(path).parent == upload_temp_dir
    assert not Path(path).exists()  # the copy is gone afterwards
    asset.refresh_from_db()
    assert asset.poster.storage.open(asset.poster.name).read() == TINY_JPEG


def test_the_real_probe_reads_a_stored_video_in_its_child_process(client_obj, tmp_path):
    """No fake: the task hands the stored file to probe_isolated and keeps what it found."""
    content = write(tmp_path / "clip.mp4", Video(frames=60)).read_bytes()
    asset = pending_asset(client_obj, content)
    assert tasks.probe_asset(asset.pk) == "ok"
    asset.refresh_from_db()
    assert asset.probe_state == MediaAsset.ProbeState.OK
    probe = asset.probe_result()
    assert (probe.width, probe.height, probe.video_codec) == (360, 640, "h264")
    assert round(probe.duration_s) == 2
    assert asset.poster.storage.open(asset.poster.name).read()[:2] == b"\xff\xd8"  # a JPEG


def test_when_the_child_cannot_start_the_task_fails_and_the_asset_stays_pending(
    client_obj, monkeypatch
):
    def cannot_start(path, *, timeout_s):
        raise OSError("fork failed")

    monkeypatch.setattr(probing, "probe_isolated", cannot_start)
    asset = pending_asset(client_obj)
    with pytest.raises(OSError):
        tasks.probe_asset(asset.pk)  # django-q retries it; the file is not to blame
    asset.refresh_from_db()
    assert asset.probe_state == "pending"
