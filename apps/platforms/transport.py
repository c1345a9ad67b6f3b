"""The platform packages' door to `apps.common.http`: base URLs read at call time, errors mapped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from apps.common import http
from apps.platforms.errors import Platform, transport_error


def base_url(key: str) -> str:
    """A `PLATFORM_BASE_URLS` entry, read per call so tests and the sandbox can re-point it."""
    return str(settings.PLATFORM_BASE_URLS[key]).rstrip("/")


def send(
    platform: Platform,
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | bytes | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
) -> http.Response:
    """One HTTP call through the seam; a transport failure becomes a transient `PlatformError`."""
    try:
        # Looked up on the module (not imported by name) so tests can patch the seam.
        return http.request(method, url, params=params, data=data, json=json, headers=headers)
    except http.HttpError as exc:
        raise transport_error(exc, platform=platform) from None


def header(response: http.Response, name: str) -> str | None:
    """A response header, case-insensitively (the seam hands us a plain dict)."""
    wanted = name.lower()
    for key, value in response.headers.items():
        if key.lower() == wanted:
            return value
    return None


def json_object(response: http.Response) -> dict[str, Any]:
    """The body as a JSON object, or {} when it is empty, not JSON or not an object."""
    body = response.json()
    return body if isinstance(body, dict) else {}


def as_int(value: object) -> int | None:
    """An integer from a JSON number or numeric string; None for anything else (bools too)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None
