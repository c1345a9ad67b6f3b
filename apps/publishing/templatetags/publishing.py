"""How posts and targets read on a page: state colours, options in people's words, findings, and
the client page's posts card (rendered here so the clients app needn't import publishing, as
connections does for its accounts card)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import template
from django.conf import settings

from apps.platforms.types import Platform
from apps.publishing import direct_post
from apps.publishing import options as opts

register = template.Library()

POST_STATUS_BADGES = {
    "draft": "",
    "scheduled": "badge-info",
    "publishing": "badge-info",
    "published": "badge-ok",
    "partially_published": "badge-warn",
    "failed": "badge-bad",
    "cancelled": "",
}
TARGET_STATE_BADGES = {
    "scheduled": "badge-info",
    "dispatched": "badge-info",
    "publishing": "badge-info",
    "processing": "badge-info",
    "published": "badge-ok",
    "retry_wait": "badge-warn",
    "failed": "badge-bad",
    "unconfirmed": "badge-warn",
    "cancelled": "",
}
SEVERITY_BADGES = {"error": "badge-bad", "warning": "badge-warn"}


@register.filter
def post_status_badge(status: str) -> str:
    return POST_STATUS_BADGES.get(status, "")


@register.filter
def target_state_badge(state: str) -> str:
    return TARGET_STATE_BADGES.get(state, "")


@register.filter
def severity_badge(severity: str) -> str:
    return SEVERITY_BADGES.get(severity, "")


@register.filter
def safe_fix_url(url: object) -> str:
    """A finding's fix link, only when it is one of our pages or an https page: findings are
    stored JSON, and a `javascript:` href would run on click."""
    text = str(url or "")
    if (text.startswith("/") and not text.startswith("//")) or text.startswith("https://"):
        return text
    return ""


# Options in people's words, one function per platform (keys and labels: apps/publishing/options.py
# and direct_post.py, the ones the composer uses).
def _tiktok_options(options: dict[str, Any]) -> list[tuple[str, str]]:
    privacy = options.get(opts.PRIVACY_LEVEL, "")
    allowed = [
        name
        for key, name in (
            (opts.ALLOW_COMMENT, "Comments"),
            (opts.ALLOW_DUET, "Duet"),
            (opts.ALLOW_STITCH, "Stitch"),
        )
        if options.get(key)
    ]
    # PLATFORMS §1.11 rule 3: the label names what the disclosure means.
    disclosure = direct_post.disclosure_label(options) or "Not commercial content"
    return [
        ("Who can watch", opts.privacy_label(privacy) if privacy else "Not chosen"),
        ("Viewers may use", ", ".join(allowed) if allowed else "No comments, Duet or Stitch"),
        ("Disclosure", disclosure),
    ]


def _instagram_options(options: dict[str, Any]) -> list[tuple[str, str]]:
    share = options.get(opts.SHARE_TO_FEED)
    offset_ms = options.get(opts.COVER_OFFSET_MS)
    if isinstance(offset_ms, int | float) and offset_ms > 0:
        seconds = offset_ms / 1000
        cover = f"Frame at {int(seconds // 60)}:{seconds % 60:04.1f}"
    else:
        cover = "First frame"
    return [
        ("Also in the feed", "Yes" if share or share is None else "No, Reels tab only"),
        ("Cover", cover),
    ]


OPTION_SUMMARIES: dict[str, Callable[[dict[str, Any]], list[tuple[str, str]]]] = {
    Platform.TIKTOK: _tiktok_options,
    Platform.INSTAGRAM: _instagram_options,
}


@register.simple_tag
def target_options(target: Any) -> list[tuple[str, str]]:
    """[(label, value)] for a target's options; empty for a platform without a summary."""
    summary = OPTION_SUMMARIES.get(target.platform)
    return summary(target.options or {}) if summary else []


@register.simple_tag
def post_poll_ms(which: str) -> int:
    """The post page's polling interval in milliseconds while an account's part moves: "every"
    (the first wait) or "max" (static/js/app.js, data-poll)."""
    seconds = settings.POST_POLL_MAX_INTERVAL if which == "max" else settings.POST_POLL_INTERVAL
    return round(seconds * 1000)


@register.inclusion_tag("publishing/_client_posts.html", takes_context=True)
def client_posts_card(context: dict[str, Any], client: Any) -> dict[str, Any]:
    """The client page's posts card; the page has already checked that the viewer sees `client`."""
    from apps.publishing import selectors
    from apps.publishing.access import can_schedule_for

    return {
        "request": context["request"],
        "client": client,
        "posts": selectors.client_posts(client=client),
        "can_post": can_schedule_for(client),
    }
