"""Helpers that drive the publishing pipeline in a test: a stored, probed video; a post scheduled
through the composer's service; a `Worker` that runs the tasks the pipeline enqueues."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from django.core.files.base import ContentFile
from django.utils import timezone

from apps.clients.models import Client
from apps.connections.models import LinkedAccount
from apps.publishing import tasks
from apps.publishing.accounts import check_accounts
from apps.publishing.assets.services import media_asset_probe
from apps.publishing.composition import PostContent, TargetPlan
from apps.publishing.models import CrossPost, MediaAsset, PublishTarget
from apps.publishing.pipeline.dispatch import dispatch_due
from apps.publishing.services import crosspost_schedule, publish_now_time
from tests.emulator.videos import make_video

_VIDEOS: dict[float, bytes] = {}


def video_bytes(seconds: float = 3.5) -> bytes:
    if seconds not in _VIDEOS:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            _VIDEOS[seconds] = make_video(Path(folder) / "clip.mp4", seconds=seconds)
    return _VIDEOS[seconds]


def stored_video(client: Client, *, seconds: float = 3.5, pad_to: int = 0) -> MediaAsset:
    """A real MP4 in storage, probed by the real probe. `pad_to` grows the file to that many
    bytes with a trailing `free` box (players and the probe skip it): a large upload in chunks
    without encoding a large video."""
    data = video_bytes(seconds)
    if pad_to > len(data):
        padding = pad_to - len(data)
        data += padding.to_bytes(4, "big") + b"free" + bytes(padding - 8)
    asset = MediaAsset(
        client=client,
        original_name="clip.mp4",
        content_type="video/mp4",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
    asset.file.save("clip.mp4", ContentFile(data), save=False)
    asset.save()
    assert media_asset_probe(asset_id=asset.pk) == "ok"
    asset.refresh_from_db()
    return asset


def options_for(account: LinkedAccount, check: Any) -> dict[str, Any]:
    if account.platform == "tiktok":
        offered = check.creator.privacy_level_options
        level = "PUBLIC_TO_EVERYONE" if "PUBLIC_TO_EVERYONE" in offered else offered[0]
        return {"privacy_level": level, "allow_comment": True}
    return {"share_to_feed": True}


def schedule(
    user: Any,
    client: Client,
    accounts: list[LinkedAccount],
    *,
    caption: str = "Launch day #switchboard",
    when: datetime | None = None,
    media: MediaAsset | None = None,
) -> CrossPost:
    """Schedule a post the way the composer does (preflight with the platforms' answers)."""
    checks = check_accounts(accounts)
    content = PostContent(
        media=media or stored_video(client),
        caption=caption,
        caption_overrides={},
        targets=tuple(TargetPlan(a, options_for(a, checks[a.pk])) for a in accounts),
    )
    return crosspost_schedule(
        actor=user,
        client=client,
        content=content,
        scheduled_at=when or publish_now_time(),
        checks=checks,
    )


class Worker:
    """Captures the tasks enqueued (django-q's async_task) and runs them on demand."""

    def __init__(self) -> None:
        self.queue: list[tuple[str, tuple[Any, ...]]] = []
        self.results: list[str] = []

    @classmethod
    @contextmanager
    def capturing(cls) -> Iterator[Worker]:
        worker = cls()

        def capture(func: str, *args: Any, **kwargs: Any) -> str:
            worker.queue.append((func, args))
            return "task"

        with mock.patch("apps.common.jobs.async_task", side_effect=capture):
            yield worker

    def run_queued(self, *, only: Callable[[str], bool] = lambda func: True) -> int:
        ran = 0
        while True:
            pending = [item for item in self.queue if only(item[0])]
            if not pending:
                return ran
            func, args = pending[0]
            self.queue.remove(pending[0])
            name = func.rsplit(".", 1)[1]
            if func.startswith("apps.publishing.tasks."):
                self.results.append(str(getattr(tasks, name)(*args)))
                ran += 1

    def drive(self, *, rounds: int = 40, ahead: timedelta = timedelta(hours=2)) -> None:
        """Dispatch and run until nothing is left to do. `ahead`: how far the dispatcher looks
        into the future, so waits and backoffs pass without sleeping."""
        for _ in range(rounds):
            handed = dispatch_due(now=timezone.now() + ahead)
            ran = self.run_queued()
            if not handed and not ran:
                return
        raise AssertionError(f"still busy after {rounds} rounds: {self.results[-5:]}")


def target_of(post: CrossPost, platform: str) -> PublishTarget:
    return post.targets.get(platform=platform)
