"""Sandbox test fixtures: isolated storage, captured webhooks, videos, a local file server."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client

from apps.emulator import faults, webhooks
from tests.emulator.videos import make_video

TT = "/_emulator/tiktok-api"
TT_WWW = "/_emulator/tiktok"
IG_WWW = "/_emulator/instagram"
IG_API = "/_emulator/instagram-api"
GRAPH = "/_emulator/instagram-graph"
CONTROL = "/_emulator/control/api"
# Switchboard's own callbacks: the redirect URIs the sandbox's app has registered by default.
REDIRECT = settings.PUBLIC_BASE_URL + settings.OAUTH_REDIRECT_PATHS["tiktok"]
IG_REDIRECT = settings.PUBLIC_BASE_URL + settings.OAUTH_REDIRECT_PATHS["instagram"]
ALL_TT_SCOPES = (
    "user.info.basic,user.info.profile,user.info.stats,video.list,video.upload,video.publish"
)
ALL_IG_SCOPES = "instagram_business_basic,instagram_business_content_publish"
# TikTok PKCE (PLATFORMS §1.2): the challenge is hex(SHA-256(verifier)).
PKCE_VERIFIER = "v" * 64
PKCE_CHALLENGE = hashlib.sha256(PKCE_VERIFIER.encode()).hexdigest()


@dataclass
class Sent:
    url: str
    data: bytes
    headers: dict[str, str]


@dataclass
class Outbox:
    sent: list[Sent] = field(default_factory=list)
    status: int = 200
    reply: str = "{}"


class _FakeResponse:
    def __init__(self, status: int, text: str) -> None:
        self.status_code = status
        self.text = text


@pytest.fixture(autouse=True)
def _sandbox_isolation(
    db: None, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(faults, "sleep", lambda seconds: None)


@pytest.fixture(autouse=True)
def outbox(monkeypatch: pytest.MonkeyPatch) -> Outbox:
    """Captures every webhook/callback the sandbox sends (requests.post is faked)."""
    box = Outbox()

    def fake_post(url: str, data: bytes = b"", headers: dict[str, str] | None = None, **_: Any):
        box.sent.append(Sent(url, data, dict(headers or {})))
        return _FakeResponse(box.status, box.reply)

    monkeypatch.setattr(webhooks.requests, "post", fake_post)
    return box


@pytest.fixture
def api() -> Client:
    return Client()


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def video(video_dir: Path) -> Callable[..., bytes]:
    """video(name, **make_video kwargs) -> bytes, cached per name for the session."""
    cache: dict[str, bytes] = {}

    def get(name: str = "good", **kwargs: Any) -> bytes:
        if name not in cache:
            suffix = ".webm" if kwargs.get("container") == "webm" else ".mp4"
            cache[name] = make_video(video_dir / (name + suffix), **kwargs)
        return cache[name]

    return get


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/redirect"))
            self.end_headers()
            return
        super().do_GET()


@dataclass
class FileServer:
    root: Path
    base: str

    def put(self, name: str, data: bytes) -> str:
        (self.root / name).write_bytes(data)
        return f"{self.base}/{name}"


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[FileServer]:
    """A real HTTP server on localhost serving files (for video_url / PULL_FROM_URL fetches)."""
    root = tmp_path / "public"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield FileServer(root, f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def control(client: Client, method: str, path: str, data: Any = None) -> Any:
    call = getattr(client, method)
    response = call(
        CONTROL + path, data={} if data is None else data, content_type="application/json"
    )
    assert response.status_code < 300, response.content
    return response.json()


def tiktok_tokens(
    client: Client, account: str = "tt-public", scopes: str = ALL_TT_SCOPES
) -> dict[str, Any]:
    """Authorize headlessly through the control API, then exchange the code for real."""
    grant = control(
        client,
        "post",
        "/authorize",
        {
            "account": account,
            "scopes": scopes,
            "redirect_uri": REDIRECT,
            "state": "s",
            "code_challenge": PKCE_CHALLENGE,
        },
    )
    response = client.post(
        TT + "/v2/oauth/token/",
        {
            "client_key": settings.TIKTOK_CLIENT_KEY,
            "client_secret": settings.TIKTOK_CLIENT_SECRET,
            "code": query_of(grant["redirect"])["code"],
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT,
            "code_verifier": PKCE_VERIFIER,
        },
    )
    assert response.status_code == 200
    return response.json()


def instagram_token(
    client: Client, account: str = "ig-business", scopes: str = ALL_IG_SCOPES, long: bool = True
) -> str:
    grant = control(
        client,
        "post",
        "/authorize",
        {"account": account, "scopes": scopes, "redirect_uri": IG_REDIRECT, "state": "s"},
    )
    response = client.post(
        IG_API + "/oauth/access_token",
        {
            "client_id": settings.INSTAGRAM_APP_ID,
            "client_secret": settings.INSTAGRAM_APP_SECRET,
            "grant_type": "authorization_code",
            "redirect_uri": IG_REDIRECT,
            "code": grant["code"],
        },
    )
    assert response.status_code == 200, response.content
    short = response.json()["access_token"]  # the flat shape, the sandbox's default
    if not long:
        return short
    response = client.get(
        GRAPH + "/access_token",
        {
            "grant_type": "ig_exchange_token",
            "client_secret": settings.INSTAGRAM_APP_SECRET,
            "access_token": short,
        },
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
