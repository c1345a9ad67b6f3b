"""TikTok Direct Post, step by step (DESIGN §6; PLATFORMS §1.6, §1.7, §1.9).

creator info → init (FILE_UPLOAD; ≤ 64,000,000 bytes as one chunk) → `publish_id` stored →
chunks (resumable from TikTok's offset) → processing → status polling or a `post.publish.*`
webhook, whichever comes first.

Checkpoint keys: `init_sent_at` (committed before the init, which is not idempotent),
`publish_id` + `upload_url` (committed right after it), `uploaded_bytes` / `total_bytes` (after
each chunk kept), `upload_done`, `polls`. A run that finds `init_sent_at` without a
`publish_id` does not init again blindly: it looks for the video among the account's posts
(`video.list`, when granted); without that scope the target is unconfirmed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.utils import timezone

from apps.platforms.tiktok import client as tiktok
from apps.platforms.tiktok import links
from apps.platforms.tiktok.errors import error_for_code
from apps.platforms.tiktok.types import PostInfo, PublishStatus
from apps.platforms.tiktok.upload import plan_chunks, upload_video
from apps.platforms.types import Platform
from apps.publishing.accounts import AccountCheck, creator_check
from apps.publishing.assets.serving import content_type_for
from apps.publishing.options import parse_tiktok
from apps.publishing.pipeline.run import Failed, Published, Run, StepResult, Unknown, Wait
from apps.publishing.publishers.base import confirm_wait, open_media

# How far back (seconds) a video's create_time may be from our init and still be ours.
LOOKUP_SLACK_S = 120


class TikTokPublisher:
    platform: ClassVar[Platform] = Platform.TIKTOK

    def account_check(self, run: Run) -> AccountCheck:
        """Creator info, required before every Direct Post (§1.11 rule 1)."""
        info = run.call("creator_info", lambda token: tiktok.query_creator_info(access_token=token))
        return creator_check(info)

    def advance(self, run: Run) -> StepResult:
        checkpoint = run.checkpoint
        if not checkpoint.get("publish_id"):
            if checkpoint.get("init_sent_at"):
                found = self._look_for_post(run)
                if found is not None:
                    return found
                # Not among the account's posts: a FILE_UPLOAD init whose bytes never arrived
                # cannot become a post (its upload URL lapses after 1 h), so start again.
                run.save(init_sent_at=None)
            return self._init(run)
        if checkpoint.get("upload_done"):
            return self._status(run)
        return self._upload(run, resume=True)

    # --- steps -----------------------------------------------------------------------------

    def _init(self, run: Run) -> StepResult:
        asset = run.target.crosspost.media
        if asset is None:
            return Failed("The post has no video any more.", code="media_missing")
        size = asset.size
        post_info = post_info_for(run)
        run.save(init_sent_at=timezone.now().isoformat(), total_bytes=size)
        init = run.call(
            "init",
            lambda token: tiktok.init_file_post(
                access_token=token, post_info=post_info, video_size=size
            ),
            summary=f"FILE_UPLOAD, {size} bytes, privacy {post_info.privacy_level}",
        )
        run.save(publish_id=init.publish_id, upload_url=init.upload_url, uploaded_bytes=0)
        return self._upload(run, resume=False)

    def _upload(self, run: Run, *, resume: bool) -> StepResult:
        checkpoint = run.checkpoint
        start = 0
        if resume:
            # Where TikTok stands decides: it may hold every byte already, or have finished.
            status = self._fetch(run)
            if status.status != "PROCESSING_UPLOAD":
                run.save(upload_done=True, upload_url=None)
                return self._settle(run, status)
            start = status.uploaded_bytes or 0
        asset = run.target.crosspost.media
        if asset is None:
            return Failed("The post has no video any more.", code="media_missing")
        # ≤ 64,000,000 bytes go as one chunk; larger files by the chunk rules (§1.6(d)): the
        # same plan the init declared, since it depends only on the size.
        plan = plan_chunks(video_size=int(checkpoint.get("total_bytes") or asset.size))
        upload_url = str(checkpoint.get("upload_url") or "")
        with open_media(asset) as source:
            run.call(
                "upload",
                lambda _token: upload_video(
                    upload_url=upload_url,
                    source=source,
                    plan=plan,
                    content_type=content_type_for(asset),
                    start_offset=start,
                    on_progress=lambda sent: run.save(uploaded_bytes=sent),
                ),
                summary=f"{plan.total_chunk_count} chunk(s) from byte {start} of {plan.video_size}",
            )
        run.save(upload_done=True, upload_url=None, uploaded_bytes=plan.video_size)
        return Wait(settings.PUBLISH_CONFIRM_FIRST_SECONDS, "TikTok is processing the video.", True)

    def _status(self, run: Run) -> StepResult:
        return self._settle(run, self._fetch(run))

    def _fetch(self, run: Run) -> PublishStatus:
        publish_id = str(run.checkpoint["publish_id"])
        return run.call(
            "status",
            lambda token: tiktok.fetch_status(access_token=token, publish_id=publish_id),
            summary=f"publish {publish_id}",
        )

    def _settle(self, run: Run, status: PublishStatus) -> StepResult:
        if status.status == "PUBLISH_COMPLETE":
            post_id = status.public_post_ids[0] if status.public_post_ids else ""
            return Published(post_id=post_id, permalink=self.permalink(run, post_id))
        if status.status == "FAILED":
            error = error_for_code(status.fail_reason or "internal")
            return Failed(error.message, code=status.fail_reason or "failed")
        polls = int(run.checkpoint.get("polls") or 0) + 1
        run.save(polls=polls)
        return confirm_wait(run, polls, note="TikTok is processing the video.")

    def _look_for_post(self, run: Run) -> StepResult | None:
        """The init's answer was lost. Look for the video among the account's newest posts."""
        if "video.list" not in (run.account.granted_scopes or []):
            return Unknown(
                "TikTok's answer to the upload was lost, and without the video.list permission "
                "Switchboard can't see whether the post was made. Look at the profile."
            )
        sent_at = datetime.fromisoformat(str(run.checkpoint["init_sent_at"]))
        caption = post_info_for(run).title
        page = run.call(
            "video_list", lambda token: tiktok.list_videos(access_token=token, max_count=20)
        )
        for video in page.videos:
            recent = video.create_time is None or (
                video.create_time >= sent_at.timestamp() - LOOKUP_SLACK_S
            )
            if recent and video.title.strip() == caption.strip():
                return Published(
                    post_id=video.id,
                    permalink=video.share_url or self.permalink(run, video.id),
                    note="Found among the account's posts after a lost answer.",
                )
        return None

    def permalink(self, run: Run, post_id: str) -> str:
        if not post_id or not run.account.handle:
            return ""
        return links.video_url(run.account.handle, post_id)


def post_info_for(run: Run) -> PostInfo:
    """The Direct Post's post_info from the target's options (§1.6(b), §1.11)."""
    options = parse_tiktok(run.target.options)
    disclose = options.disclose_commercial
    extra: dict[str, Any] = {}
    cover = run.target.options.get("cover_offset_ms")
    if isinstance(cover, int):
        extra["video_cover_timestamp_ms"] = cover
    return PostInfo(
        title=run.target.crosspost.caption_for(Platform.TIKTOK),
        privacy_level=options.privacy_level,
        disable_duet=not options.allow_duet,
        disable_comment=not options.allow_comment,
        disable_stitch=not options.allow_stitch,
        brand_content_toggle=disclose and options.brand_content,
        brand_organic_toggle=disclose and options.brand_organic,
        **extra,
    )
