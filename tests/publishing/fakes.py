"""Fakes for the publishing tests: the platforms behind the HTTP seam, answering per endpoint and
per account (the bearer token says which), and builders of accounts that hold a credential."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apps.clients.models import Client
from apps.common.http import HttpError, Response
from apps.connections.models import LinkedAccount
from apps.platforms.types import Platform
from tests.factories import CredentialFactory, LinkedAccountFactory

CREATOR_INFO_PATH = "/v2/post/publish/creator_info/query/"


def creator(**changes: Any) -> dict[str, Any]:
    """A creator_info `data` object (PLATFORMS §1.6(a)) with `changes` applied."""
    return {
        "creator_avatar_url": "https://p16-sign.tiktokcdn.com/avatar.jpeg",
        "creator_username": "northwind",
        "creator_nickname": "Northwind Coffee Official",
        "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
        "comment_disabled": False,
        "duet_disabled": False,
        "stitch_disabled": False,
        "max_video_post_duration_sec": 300,
        **changes,
    }


@dataclass
class FakePlatforms:
    """Stands in for `apps.common.http.request`. `creators` maps an access token to its
    creator_info data, or to an error code answered with HTTP 200 (a cap or ban) or as
    (status, code); `quota_usage` maps an Instagram user id to its posts in the window."""

    creators: dict[str, Any] = field(default_factory=dict)
    quota_usage: dict[str, int] = field(default_factory=dict)
    down: bool = False
    calls: list[tuple[str, str]] = field(default_factory=list)

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
        self.calls.append((method, url))
        if self.down:
            raise HttpError("connection refused", url=url)
        if url.endswith(CREATOR_INFO_PATH):
            token = (headers or {}).get("Authorization", "").removeprefix("Bearer ")
            return self._creator_info(token)
        if url.endswith("/content_publishing_limit"):
            ig_user_id = url.rsplit("/", 2)[-2]
            usage = self.quota_usage.get(ig_user_id, 0)
            return _json(200, {"data": [{"quota_usage": usage, "config": {"quota_total": 100}}]})
        raise AssertionError(f"unexpected platform call {method} {url}")

    def _creator_info(self, token: str) -> Response:
        answer = self.creators.get(token, creator())
        if isinstance(answer, dict):
            return _json(200, {"data": answer, "error": {"code": "ok", "message": ""}})
        status, code = answer if isinstance(answer, tuple) else (200, answer)
        return _json(status, {"data": {}, "error": {"code": code, "message": "no"}})

    def count(self, fragment: str) -> int:
        return sum(1 for _, url in self.calls if fragment in url)


def _json(status: int, body: Any) -> Response:
    return Response(status=status, headers={}, content=jsonlib.dumps(body).encode(), url="")


def tiktok_account(
    fake: FakePlatforms, client: Client, *, handle: str = "northwind", **creator_changes: Any
) -> LinkedAccount:
    account = LinkedAccountFactory(
        client=client,
        platform=Platform.TIKTOK,
        handle=handle,
        display_name=handle.title(),
        external_id=f"open-{handle}",
    )
    CredentialFactory(account=account, access=f"act.{handle}")
    fake.creators[f"act.{handle}"] = creator(**creator_changes)
    return account


def instagram_account(
    fake: FakePlatforms, client: Client, *, handle: str = "northwind_ig", usage: int = 3
) -> LinkedAccount:
    account = LinkedAccountFactory(
        client=client,
        platform=Platform.INSTAGRAM,
        handle=handle,
        external_id=f"1784{abs(hash(handle)) % 10**10:010d}",
    )
    CredentialFactory(account=account, access=f"IGAA.{handle}", refresh=None)
    fake.quota_usage[account.external_id] = usage
    return account
