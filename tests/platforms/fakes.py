"""Fakes for the HTTP seam shared by the platform tests."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apps.common.http import HttpError, Response

BASE_URLS = {
    "tiktok_auth": "https://auth.tiktok.test",
    "tiktok_api": "https://api.tiktok.test",
    "instagram_auth": "https://auth.instagram.test",
    "instagram_api": "https://api.instagram.test",
    "instagram_graph": "https://graph.instagram.test",
}


@dataclass
class Call:
    method: str
    url: str
    params: dict[str, Any] | None
    data: Any
    json: Any
    headers: dict[str, str]


@dataclass
class FakeHttp:
    """Replays queued responses (or transport errors) and records every call."""

    calls: list[Call] = field(default_factory=list)
    replies: list[Response | HttpError] = field(default_factory=list)

    def reply(
        self,
        status: int = 200,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FakeHttp:
        content = raw if raw is not None else b""
        if raw is None and body is not None:
            content = jsonlib.dumps(body).encode()
        self.replies.append(
            Response(status=status, headers=dict(headers or {}), content=content, url="")
        )
        return self

    def fail(self, *, timeout: bool = False) -> FakeHttp:
        self.replies.append(HttpError("boom", url="https://x.test", timeout=timeout))
        return self

    def __call__(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = None,
        max_bytes: int = 0,
    ) -> Response:
        self.calls.append(
            Call(method, url, dict(params) if params else None, data, json, dict(headers or {}))
        )
        if not self.replies:
            raise AssertionError(f"unexpected call {method} {url}")
        reply = self.replies.pop(0)
        if isinstance(reply, HttpError):
            raise reply
        return reply

    @property
    def last(self) -> Call:
        return self.calls[-1]


def tiktok_ok(data: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "error": {"code": "ok", "message": "", "log_id": "log-1"}}


def tiktok_err(code: str, message: str = "nope") -> dict[str, Any]:
    return {"data": {}, "error": {"code": code, "message": message, "log_id": "log-2"}}
