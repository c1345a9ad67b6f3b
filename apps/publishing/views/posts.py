"""The post page: what goes out, where, when (in the client's time), and how each account's part
is doing (DESIGN §11)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from apps.platforms.types import Platform
from apps.publishing import selectors
from apps.publishing.access import can_schedule_for, get_crosspost_for_view
from apps.publishing.calendar import utc_offset_label
from apps.publishing.lifecycle import CHANGEABLE_STATES, IN_FLIGHT_STATES
from apps.publishing.models import CrossPost, PublishTarget, TargetState
from apps.staff.types import AuthedRequest


@dataclass(frozen=True)
class CaptionBlock:
    label: str
    text: str
    used_for: str  # which platforms get this text, in words


@login_required
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    post = get_crosspost_for_view(request.user, pk)
    targets = selectors.crosspost_targets(crosspost=post)
    when = post.scheduled_at
    local = when.astimezone(ZoneInfo(post.client.timezone)) if when else None
    changeable = any(t.state in CHANGEABLE_STATES for t in targets)
    context = {
        "post": post,
        "client": post.client,
        "targets": targets,
        "captions": _captions(post, targets),
        "local_time": local,
        "utc_offset": utc_offset_label(local) if local else "",
        "can_cancel": changeable,
        "can_reschedule": changeable and can_schedule_for(post.client),
        # PLATFORMS §1.11 rule 5: once a platform has the video, say it may take a few minutes.
        "processing_note": any(
            t.state in IN_FLIGHT_STATES or t.state == TargetState.PUBLISHED for t in targets
        ),
        "has_preview": bool(post.media and post.media.is_readable),
    }
    return render(request, "publishing/post.html", context)


def _captions(post: CrossPost, targets: list[PublishTarget]) -> list[CaptionBlock]:
    """The shared caption (for the platforms without their own text), then each override."""
    platforms = [p for p in Platform if any(t.platform == p for t in targets)] or list(Platform)
    own = [p for p in Platform if (post.caption_overrides or {}).get(p.value)]
    shared_for = [p.label for p in platforms if p not in own]
    blocks = []
    if post.caption or shared_for:
        blocks.append(
            CaptionBlock(
                label="Caption",
                text=post.caption,
                used_for=f"for {_and(shared_for)}" if shared_for else "unused: each has its own",
            )
        )
    for platform in own:
        blocks.append(
            CaptionBlock(
                label=f"{platform.label} caption",
                text=post.caption_overrides[platform.value],
                used_for=f"for {platform.label} only",
            )
        )
    return blocks


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
