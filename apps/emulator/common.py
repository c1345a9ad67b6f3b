"""Small helpers shared by both platforms' views: ids, JSON replies, redirect URIs, storage."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, JsonResponse

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]", "testserver"}


def random_token(prefix: str = "", nbytes: int = 24) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def random_digits(length: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


def log_id() -> str:
    """TikTok-style log id: a timestamp followed by random hex."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + secrets.token_hex(10).upper()


def fbtrace_id() -> str:
    return secrets.token_urlsafe(8)


def json_response(payload: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(payload, status=status, safe=False, json_dumps_params={"indent": None})


def json_body(request: HttpRequest) -> dict[str, Any] | None:
    """The request's JSON object body, `{}` when empty, or None when it is not a JSON object."""
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def bearer_token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in {"bearer", "oauth"}:
        return value.strip()
    return ""


def is_local_host(hostname: str | None) -> bool:
    return (hostname or "").lower() in LOCAL_HOSTS


def redirect_uri_problem(uri: str, *, allow_query: bool) -> str | None:
    """Why `uri` is not an acceptable redirect URI, or None.

    Platforms require absolute https URIs (PLATFORMS §1.2, §2.2); the sandbox also allows http
    for localhost so a developer machine works. TikTok forbids a query string; both forbid `#`.
    """
    if not uri:
        return "redirect_uri is missing"
    if len(uri) >= 512:
        return "redirect_uri must be shorter than 512 characters"
    parts = urlsplit(uri)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return "redirect_uri must be an absolute https URL"
    if parts.scheme == "http" and not is_local_host(parts.hostname):
        return "redirect_uri must use https (http is allowed for localhost only)"
    if "#" in uri:
        return "redirect_uri must not contain a fragment"
    if parts.query and not allow_query:
        return "redirect_uri must not contain a query string"
    return None


def with_query(uri: str, params: dict[str, str], fragment: str = "") -> str:
    separator = "&" if urlsplit(uri).query else "?"
    return uri + separator + urlencode(params) + (("#" + fragment) if fragment else "")


def storage_dir() -> Path:
    """Where uploaded and fetched videos are kept (under MEDIA_ROOT/_emulator)."""
    path = Path(settings.MEDIA_ROOT) / "_emulator"
    path.mkdir(parents=True, exist_ok=True)
    return path
