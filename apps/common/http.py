"""The one outbound HTTP seam (STYLE rule 5).

Every call to a platform goes through `request()`: a timeout is always set, redirects are never
followed, transport failures raise the single `HttpError`, and each call is logged with secrets
redacted. Status codes are not interpreted here: the platform packages map them (they know what a
400 from TikTok means); this module only moves bytes.
"""

from __future__ import annotations

import json as jsonlib
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings

logger = logging.getLogger("switchboard.http")

# Names whose values never reach a log line, in query strings, form bodies, JSON or headers.
SECRET_NAMES = frozenset(
    {
        "access_token",
        "refresh_token",
        "client_secret",
        "code",
        "code_verifier",
        "input_token",
        "upload_token",
        "authorization",
        "signed_request",
        "password",
        "fb_exchange_token",
    }
)
REDACTED = "[redacted]"
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"']+")
_TOKENISH = re.compile(r"\b(act|rft|IGAA|IGQV|EAA)[A-Za-z0-9._~+/=-]{6,}")
MAX_RESPONSE_BYTES = 10 * 1024 * 1024


class HttpError(Exception):
    """The request did not produce an HTTP response: connection refused, timeout, too large."""

    def __init__(self, message: str, *, url: str = "", timeout: bool = False) -> None:
        super().__init__(message)
        self.url = url
        self.timeout = timeout


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str
    elapsed_ms: int = 0
    _json_cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON (a platform's HTML error page)."""
        if "value" not in self._json_cache:
            try:
                self._json_cache["value"] = jsonlib.loads(self.content or b"null")
            except ValueError:
                self._json_cache["value"] = None
        return self._json_cache["value"]


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (k, REDACTED if k.lower() in SECRET_NAMES else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


def redact_text(text: str) -> str:
    """Mask bearer tokens and token-shaped strings in free text (error bodies, messages)."""
    return _TOKENISH.sub(REDACTED, _BEARER.sub(r"\1" + REDACTED, text))


def redact_mapping(data: Mapping[str, Any] | None) -> dict[str, Any]:
    if not data:
        return {}
    return {k: (REDACTED if str(k).lower() in SECRET_NAMES else v) for k, v in dict(data).items()}


def request(
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | bytes | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: tuple[float, float] | float | None = None,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> Response:
    """Make one HTTP request and return the response whatever its status.

    Raises `HttpError` when no response arrived (or it was larger than `max_bytes`).
    """
    effective_timeout = timeout if timeout is not None else settings.HTTP_TIMEOUT
    started = time.monotonic()
    shown_url = redact_url(url)
    try:
        raw = requests.request(
            method,
            url,
            params=params,
            data=data,
            json=json,
            headers=dict(headers or {}),
            timeout=effective_timeout,
            allow_redirects=False,
            stream=True,
        )
        body = _read_limited(raw, max_bytes)
    except requests.Timeout as exc:
        logger.warning("%s %s timed out", method, shown_url)
        raise HttpError(f"{method} {shown_url} timed out", url=shown_url, timeout=True) from exc
    except requests.RequestException as exc:
        message = redact_text(str(exc))
        logger.warning("%s %s failed: %s", method, shown_url, message)
        raise HttpError(f"{method} {shown_url} failed: {message}", url=shown_url) from None
    elapsed_ms = int((time.monotonic() - started) * 1000)
    logger.info("%s %s -> %s in %sms", method, shown_url, raw.status_code, elapsed_ms)
    return Response(
        status=raw.status_code,
        headers=dict(raw.headers),
        content=body,
        url=url,
        elapsed_ms=elapsed_ms,
    )


def _read_limited(raw: requests.Response, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    try:
        for chunk in raw.iter_content(chunk_size=64 * 1024):
            total += len(chunk)
            if total > max_bytes:
                raise HttpError(f"Response larger than {max_bytes} bytes", url=redact_url(raw.url))
            chunks.append(chunk)
    finally:
        raw.close()
    return b"".join(chunks)
