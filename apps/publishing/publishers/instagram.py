"""Instagram Reels through the Instagram API with Instagram Login (DESIGN §6; PLATFORMS §2.7).

quota → container from a signed, expiring URL of the video → container id stored → status
polled (the task ends and the dispatcher wakes it again; no worker sleeps) → `media_publish` →
media id stored → permalink.

Checkpoint keys: `container_sent_at` (before the container call), `container_id` and
`container_at` (after), `publish_sent_at` (before `media_publish`, which is not idempotent),
`media_id` (after), `polls`, `restarts`. A run that finds `publish_sent_at` without a `media_id`
asks the container first: `PUBLISHED` means the post is out; `FINISHED` means the publish never
happened and may be asked again. A container whose answer was lost is never published, so a new
one is made (the orphan expires unpublished after 24 h).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.utils import timezone

from apps.connections.services.failure_policy import account_apply_error
from apps.platforms.errors import Category, PlatformError
from apps.platforms.instagram import client as instagram
from apps.platforms.instagram.types import ContainerStatus
from apps.platforms.types import Platform
from apps.publishing.accounts import AccountCheck
from apps.publishing.assets.links import signed_media_url
from apps.publishing.options import parse_instagram
from apps.publishing.pipeline.run import Failed, Published, Run, StepResult, Wait
from apps.publishing.publishers.base import confirm_wait

# The signed URL Meta fetches the video from lives this long (it fetches within minutes).
MEDIA_URL_TTL_S = 6 * 3600
# How often a container that Instagram failed with a "make a new one" error is made again.
MAX_RESTARTS = 2
# When Instagram's fetch of the video has not finished after this long, the post failed.
CONTAINER_GIVE_UP_S = 2 * 3600


class InstagramPublisher:
    platform: ClassVar[Platform] = Platform.INSTAGRAM

    def account_check(self, run: Run) -> AccountCheck:
        """Posts left in the rolling 24 h (§2.7 step 5); none left waits, it doesn't fail."""
        ig_user_id = run.account.external_id
        limit = run.call(
            "quota",
            lambda token: instagram.get_publishing_limit(access_token=token, ig_user_id=ig_user_id),
        )
        if limit.remaining <= 0:
            raise PlatformError(
                platform=Platform.INSTAGRAM,
                category=Category.QUOTA,
                code="quota_exhausted",
                message=f"The account has used all {limit.quota_total} posts Instagram allows "
                "in 24 hours; Switchboard tries again in an hour.",
                retry_after=3600,
            )
        return AccountCheck(posts_left=limit.remaining)

    def advance(self, run: Run) -> StepResult:
        checkpoint = run.checkpoint
        if checkpoint.get("media_id"):
            return self._permalink(run)
        if checkpoint.get("container_id"):
            return self._follow_container(run)
        return self._create_container(run)

    def _create_container(self, run: Run) -> StepResult:
        asset = run.target.crosspost.media
        if asset is None:
            return Failed("The post has no video any more.", code="media_missing")
        options = parse_instagram(run.target.options)
        video_url = signed_media_url(asset, ttl=MEDIA_URL_TTL_S)
        caption = run.target.crosspost.caption_for(Platform.INSTAGRAM)
        ig_user_id = run.account.external_id
        run.save(container_sent_at=timezone.now().isoformat())
        container = run.call(
            "container",
            lambda token: instagram.create_reel_container(
                access_token=token,
                ig_user_id=ig_user_id,
                video_url=video_url,
                caption=caption,
                share_to_feed=options.share_to_feed,
                thumb_offset_ms=options.cover_offset_ms,
            ),
            summary=f"REELS from a signed link to {asset.size} bytes",
        )
        run.save(container_id=container.id, container_at=timezone.now().isoformat(), polls=0)
        return Wait(settings.PUBLISH_CONFIRM_FIRST_SECONDS, "Instagram is fetching the video.")

    def _follow_container(self, run: Run) -> StepResult:
        container_id = str(run.checkpoint["container_id"])
        status: ContainerStatus = run.call(
            "container_status",
            lambda token: instagram.get_container_status(
                access_token=token, container_id=container_id
            ),
            summary=f"container {container_id}",
        )
        if status.status_code == "PUBLISHED":
            # Our media_publish went through and its answer was lost.
            return Published(note="Instagram shows the reel published; its link didn't come back.")
        if status.status_code == "FINISHED":
            return self._publish(run, container_id)
        error = status.error
        if error is not None:
            restarts = int(run.checkpoint.get("restarts") or 0)
            if error.restart and restarts < MAX_RESTARTS:
                run.save(
                    container_id=None,
                    container_sent_at=None,
                    publish_sent_at=None,
                    restarts=restarts + 1,
                )
                return self._create_container(run)
            return Failed(error.message, code=error.code)
        started = datetime.fromisoformat(str(run.checkpoint.get("container_at")))
        if (timezone.now() - started).total_seconds() > CONTAINER_GIVE_UP_S:
            return Failed(
                "Instagram didn't finish fetching the video in 2 hours; nothing was posted.",
                code="container_timeout",
            )
        polls = int(run.checkpoint.get("polls") or 0) + 1
        run.save(polls=polls)
        wait = confirm_wait(run, polls, note="Instagram is processing the video.")
        return Wait(wait.seconds, wait.note) if isinstance(wait, Wait) else wait

    def _publish(self, run: Run, container_id: str) -> StepResult:
        ig_user_id = run.account.external_id
        run.save(publish_sent_at=timezone.now().isoformat())
        media = run.call(
            "publish",
            lambda token: instagram.publish_container(
                access_token=token, ig_user_id=ig_user_id, container_id=container_id
            ),
            summary=f"container {container_id}",
        )
        run.save(media_id=media.id)
        return self._permalink(run)

    def _permalink(self, run: Run) -> StepResult:
        """The reel is live once media_publish answered with its id; its link is a nicety. A
        failure here never makes a published reel "failed" or "unconfirmed"."""
        media_id = str(run.checkpoint["media_id"])
        try:
            info = run.call(
                "permalink",
                lambda token: instagram.get_media(access_token=token, media_id=media_id),
                summary=f"media {media_id}",
            )
        except PlatformError as error:
            if error.category == Category.AUTH:
                account_apply_error(account=run.account, error=error, during="publish")
            return Published(
                post_id=media_id,
                note=f"Instagram published the reel; its link didn't come back ({error.message}).",
            )
        return Published(post_id=media_id, permalink=info.permalink)
