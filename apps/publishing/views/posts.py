"""The post page: what goes out, where, when (in the client's time), and how each account's part
is doing — its state, its platform calls, the upload's progress — live while it moves, with a
way out of a failure (DESIGN §11)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.platforms.types import Platform
from apps.publishing import recovery, selectors
from apps.publishing.access import can_schedule_for, get_crosspost_for_view, get_target_for_view
from apps.publishing.accounts import account_label
from apps.publishing.calendar import utc_offset_label
from apps.publishing.lifecycle import CHANGEABLE_STATES, derive_status
from apps.publishing.models import CrossPost, PublishTarget
from apps.publishing.recovery_forms import FOUND, ConfirmForm
from apps.publishing.timeline import is_moving, target_views
from apps.staff.types import AuthedRequest


@dataclass(frozen=True)
class CaptionBlock:
    label: str
    text: str
    used_for: str  # which platforms get this text, in words


@login_required
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    post = get_crosspost_for_view(request.user, pk)
    return render(request, "publishing/post.html", _page_context(post))


@login_required
def targets(request: AuthedRequest, pk: int) -> HttpResponse:
    """The accounts section alone, for the page's poll while a target moves."""
    post = get_crosspost_for_view(request.user, pk)
    return render(request, "publishing/post.html#targets_update", _targets_context(post))


@login_required
@require_POST
def retry(request: AuthedRequest, pk: int) -> HttpResponse:
    target = get_target_for_view(request.user, pk)
    try:
        recovery.target_retry(actor=request.user, target=target)
    except recovery.ChangeRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            f"Publishing to {account_label(target.linked_account)} again now. This page follows "
            "along.",
        )
    return redirect("publishing:post", pk=target.crosspost_id)


@login_required
@require_POST
def confirm(request: AuthedRequest, pk: int) -> HttpResponse:
    """The answer about an unconfirmed target, after the person looked at the profile."""
    target = get_target_for_view(request.user, pk)
    form = ConfirmForm(request.POST, platform=target.platform, prefix=_prefix(target))
    if not form.is_valid():
        post = target.crosspost
        context = _page_context(post, forms={target.pk: form})
        return render(request, "publishing/post.html", context, status=400)
    label = account_label(target.linked_account)
    try:
        if form.cleaned_data["decision"] == FOUND:
            recovery.target_confirm_published(
                actor=request.user, target=target, permalink=form.cleaned_data["permalink"]
            )
            done = f"Marked as published on {label}."
        else:
            recovery.target_confirm_missing(actor=request.user, target=target)
            done = f"Publishing to {label} again now. This page follows along."
    except recovery.ChangeRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, done)
    return redirect("publishing:post", pk=target.crosspost_id)


def _prefix(target: PublishTarget) -> str:
    return f"t{target.pk}"


def _targets_context(
    post: CrossPost, *, forms: dict[int, ConfirmForm] | None = None
) -> dict[str, Any]:
    """What the accounts section shows, on the page and in each poll."""
    forms = forms or {}
    targets = selectors.crosspost_targets(crosspost=post)
    views = target_views(
        targets,
        archived=not can_schedule_for(post.client),
        confirm_form=lambda t: (
            forms.get(t.pk) or ConfirmForm(platform=t.platform, prefix=_prefix(t))
        ),
    )
    now = timezone.now()
    changeable = any(t.state in CHANGEABLE_STATES for t in targets)
    return {
        "post": post,
        "client": post.client,
        # From the targets as they are now: the stored status may lag a move by a moment.
        "status": derive_status([t.state for t in targets], draft=post.is_draft),
        "summary": "; ".join(
            f"{account_label(t.linked_account)}: {t.get_state_display()}" for t in targets
        ),
        "targets": targets,
        "target_views": views,
        # Poll while any account's part may move by itself; the last answer without this stops.
        "live": any(is_moving(t, now=now) for t in targets),
        # The header's actions follow the targets too: no Cancel once publishing has started.
        "can_cancel": changeable,
        "can_reschedule": changeable and can_schedule_for(post.client),
    }


def _page_context(
    post: CrossPost, *, forms: dict[int, ConfirmForm] | None = None
) -> dict[str, Any]:
    context = _targets_context(post, forms=forms)
    when = post.scheduled_at
    local = when.astimezone(ZoneInfo(post.client.timezone)) if when else None
    return {
        **context,
        "captions": _captions(post, context["targets"]),
        "local_time": local,
        "utc_offset": utc_offset_label(local) if local else "",
        "has_preview": bool(post.media and post.media.is_readable),
    }


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
