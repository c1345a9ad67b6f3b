"""Helpers for the composer's request-level tests."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from django.contrib.messages import get_messages

from apps.connections.models import LinkedAccount


def hidden_value(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden {name} on the page"
    return unescape(found.group(1))


def page_state(response: Any) -> dict[str, str]:
    """The hidden values a composer page carries into its next submission."""
    html = response.content.decode()
    state = {"account_checks": hidden_value(html, "account_checks")}
    if 'name="submission" value="' in html:  # new posts only
        state["submission"] = hidden_value(html, "submission")
    return state


def tiktok_fields(account: LinkedAccount, **options: Any) -> dict[str, Any]:
    """Form fields of one TikTok account's options (checkboxes "on" when true)."""
    values: dict[str, Any] = {"privacy_level": "PUBLIC_TO_EVERYONE", **options}
    return {
        f"a{account.pk}_{key}": ("on" if value is True else value)
        for key, value in values.items()
        if value is not False
    }


def instagram_fields(account: LinkedAccount, **options: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"share_to_feed": True, **options}
    return {
        f"a{account.pk}_{key}": ("on" if value is True else value)
        for key, value in values.items()
        if value is not False and value is not None
    }


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def text_of(response: Any) -> str:
    """The page's visible text, roughly: tags dropped, whitespace collapsed."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
