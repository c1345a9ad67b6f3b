"""Writes for media assets: store an upload once per content, record what the probe found."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.clients.models import Client
from apps.common.jobs import enqueue
from apps.publishing.assets import probing
from apps.publishing.assets.uploads import ReceivedVideo
from apps.publishing.models import MediaAsset
from apps.publishing.probe import UnreadableMedia

logger = logging.getLogger(__name__)

PROBE_TASK = "apps.publishing.assets.tasks.probe_asset"


@dataclass(frozen=True)
class StoredAsset:
    asset: MediaAsset
    created: bool  # False: the client already had this exact file; `asset` is that one


def media_asset_store(*, client: Client, video: ReceivedVideo, actor: Any) -> StoredAsset:
    """Store a received upload as the client's asset, or return the asset it duplicates.

    The file goes to storage first, outside any transaction (a copy to object storage can take a
    while); the row, its audit event and the probe task follow in one transaction. If that
    fails, the stored file is removed again, so no file exists without its row. Two identical
    uploads racing each other meet at the (client, sha256) constraint: the loser returns the
    winner's asset.
    """
    existing = MediaAsset.objects.filter(client=client, sha256=video.sha256).first()
    if existing is not None:
        return StoredAsset(existing, created=False)

    asset = MediaAsset(
        client=client,
        original_name=video.name,
        content_type=video.content_type,
        sha256=video.sha256,
        size=video.size,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    # The name is the content address (upload_to); a local storage moves the temporary file.
    asset.file.save(video.name, video.file, save=False)
    stored_name = asset.file.name or ""
    try:
        with transaction.atomic():
            asset.save()
            audit_record(
                action=AuditAction.MEDIA_UPLOADED,
                actor=actor,
                client=client,
                target=asset,
                target_label=asset.original_name,
                data={"name": asset.original_name, "size": asset.size, "sha256": asset.sha256},
            )
            enqueue(PROBE_TASK, asset.pk)
    except IntegrityError:
        winner = MediaAsset.objects.filter(client=client, sha256=video.sha256).first()
        if winner is None:
            _remove_stored(asset.file.storage, stored_name)
            raise
        # Storages that overwrite (S3) stored both at one key: only a name of our own goes.
        if stored_name != winner.file.name:
            _remove_stored(asset.file.storage, stored_name)
        return StoredAsset(winner, created=False)
    except BaseException:
        _remove_stored(asset.file.storage, stored_name)
        raise
    return StoredAsset(asset, created=True)


def _remove_stored(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:  # never hide the error that brought us here
        logger.exception("Could not remove the stored upload %s", name)


def media_asset_probe(*, asset_id: int) -> str:
    """Probe a pending asset and store the result; an asset already probed is left alone (a
    re-delivered task does nothing). Returns the asset's probe state (or "gone")."""
    asset = MediaAsset.objects.filter(pk=asset_id).first()
    if asset is None:
        return "gone"
    if asset.probe_state != MediaAsset.ProbeState.PENDING:
        return str(asset.probe_state)

    poster: bytes | None = None
    fields: dict[str, Any]
    with probing.local_path(asset.file) as path:
        try:
            found, poster = probing.probe_media(path, timeout_s=settings.MEDIA_PROBE_TIMEOUT)
        except UnreadableMedia as unreadable:
            fields = {
                "probe_state": MediaAsset.ProbeState.UNREADABLE,
                "probe_error": (str(unreadable) or "The file could not be read as a video.")[:300],
                "probe": {},
            }
        else:
            fields = {
                "probe_state": MediaAsset.ProbeState.OK,
                "probe_error": "",
                "probe": found.to_dict(),
            }

    poster_name = ""
    if poster:
        poster_name = asset.poster.storage.save(
            asset.poster.field.generate_filename(asset, "poster.jpg"), ContentFile(poster)
        )
    # Conditional on still pending: of two deliveries running at once, one writes.
    updated = MediaAsset.objects.filter(
        pk=asset.pk, probe_state=MediaAsset.ProbeState.PENDING
    ).update(probed_at=timezone.now(), poster=poster_name, **fields)
    if not updated:
        if poster_name:
            _remove_stored(asset.poster.storage, poster_name)
        asset.refresh_from_db(fields=["probe_state"])
    return str(fields["probe_state"] if updated else asset.probe_state)
