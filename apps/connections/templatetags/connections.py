from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from apps.connections.models import Platform

register = template.Library()

STATE_BADGES = {
    "active": "badge-ok",
    "refresh_failing": "badge-warn",
    "needs_reconnect": "badge-bad",
    "revoked_on_platform": "badge-bad",
    "disconnect_pending": "badge-info",
    "disconnected": "",
}
CAPABILITY_BADGES = {
    "ok": "badge-ok",
    "unknown": "",
    "quota_exhausted": "badge-warn",
}


@register.filter
def state_badge(state: str) -> str:
    return STATE_BADGES.get(state, "")


@register.filter
def capability_badge(capability: str) -> str:
    return CAPABILITY_BADGES.get(capability, "badge-bad")


@register.inclusion_tag("connections/client_panel.html", takes_context=True)
def client_accounts_panel(context: dict[str, Any], client: Any) -> dict[str, Any]:
    """The client page's accounts card (rendered here so the clients app needn't import us)."""
    from apps.connections import selectors
    from apps.connections.access import can_send_connect_links
    from apps.connections.forms import ConnectLinkForm

    request = context["request"]
    user = request.user
    can_link = can_send_connect_links(user, client)
    new_link = request.session.pop("connect_link_url", None)
    return {
        "request": request,
        "client": client,
        "accounts": selectors.accounts_for_client(client=client),
        "links": selectors.open_connect_links(client=client) if can_link else [],
        "can_link": can_link,
        "link_form": ConnectLinkForm() if can_link else None,
        "new_link": new_link,
        "platforms": Platform.choices,
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def health_poll_ms(which: str) -> int:
    """The health panel's polling interval in milliseconds: "every" (the first wait) or "max"."""
    seconds = settings.HEALTH_POLL_MAX_INTERVAL if which == "max" else settings.HEALTH_POLL_INTERVAL
    return round(seconds * 1000)


@register.inclusion_tag("connections/health_panel.html", takes_context=True)
def health_panel(context: dict[str, Any]) -> dict[str, Any]:
    from apps.connections import selectors

    user = context["request"].user
    return {
        "request": context["request"],
        "health": selectors.health_counts(user=user),
        "attention": selectors.needs_attention(user=user),
    }
