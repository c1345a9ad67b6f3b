"""What a platform's publisher is, and what every publisher shares."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import BinaryIO, ClassVar, Protocol, cast

from django.conf import settings
from django.utils import timezone

from apps.platforms.types import Platform
from apps.publishing.accounts import AccountCheck
from apps.publishing.models import MediaAsset
from apps.publishing.pipeline.run import Run, StepResult, Unknown, Wait

_jitter = random.Random()  # noqa: S311 - spreading retries, not security


class Publisher(Protocol):
    """One platform's publishing steps (DESIGN §6). `advance()` reads the checkpoint and does
    the next thing: a fresh start, a resume after a crash (reconciling first wherever a call
    that is not idempotent may have taken effect), or the next confirmation poll."""

    platform: ClassVar[Platform]

    def account_check(self, run: Run) -> AccountCheck:
        """The due-time account check preflight needs (TikTok creator info, Instagram quota)."""
        ...

    def advance(self, run: Run) -> StepResult: ...


@contextmanager
def open_media(asset: MediaAsset) -> Iterator[BinaryIO]:
    handle = cast(BinaryIO, asset.file.storage.open(asset.file.name or "", "rb"))
    try:
        yield handle
    finally:
        handle.close()


def confirm_wait(run: Run, polls: int, *, note: str) -> Wait | Unknown:
    """The next confirmation poll, backing off from PUBLISH_CONFIRM_FIRST_SECONDS to its
    ceiling; past PUBLISH_CONFIRM_GIVE_UP_SECONDS since the platform took the post, unknown."""
    accepted_at = run.checkpoint.get("accepted_at")
    if accepted_at:
        waited = (timezone.now() - datetime.fromisoformat(str(accepted_at))).total_seconds()
        if waited > settings.PUBLISH_CONFIRM_GIVE_UP_SECONDS:
            hours = settings.PUBLISH_CONFIRM_GIVE_UP_SECONDS / 3600
            return Unknown(
                f"The platform took the video but hasn't confirmed the post in {hours:g} hours. "
                "Look at the profile."
            )
    delay = min(
        settings.PUBLISH_CONFIRM_FIRST_SECONDS * 2 ** min(polls - 1, 16),
        settings.PUBLISH_CONFIRM_MAX_SECONDS,
    )
    return Wait(delay * _jitter.uniform(0.8, 1.2), note, accepted=True)
