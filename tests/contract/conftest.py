"""Contract fixtures: the sandbox on pytest-django's live server, reached over real HTTP.

`sandbox` points `settings.PLATFORM_BASE_URLS` at the live server's `/_emulator/…` prefixes and
the sandbox's webhook/callback targets at `receiver`, a real HTTP server on 127.0.0.1, whose OAuth
callbacks it registers as the app's redirect URIs (the sandbox redirects nowhere else). Sandbox
state is driven only through its JSON control API; the clients under test are the production
ones in `apps.platforms`, unpatched.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from apps.platforms.instagram import client as ig
from apps.platforms.tiktok import client as tt
from apps.platforms.types import TokenSet
from tests.contract.helpers import (
    ALL_IG_SCOPES,
    ALL_TT_SCOPES,
    IG_CALLBACK,
    IG_DATA_DELETION,
    IG_DEAUTHORIZE,
    TT_CALLBACK,
    TT_WEBHOOK,
    Receiver,
    Sandbox,
    base_urls,
    registered_redirect_uris,
)
from tests.emulator.videos import make_video

# Sandbox seconds before a task's or container's result shows; tests move the sandbox clock.
PROCESSING_S = 5
MODERATION_S = 5
# Client read timeout for the `timeout` preset; the sandbox sleeps FAULT_LATENCY_MS first.
CLIENT_READ_TIMEOUT_S = 0.2
FAULT_LATENCY_MS = 500


@pytest.fixture(scope="session")
def _receiver_server() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def receiver(_receiver_server: Receiver) -> Iterator[Receiver]:
    _receiver_server.clear()
    yield _receiver_server
    _receiver_server.clear()


@pytest.fixture
def sandbox(
    live_server: Any, transactional_db: None, settings: Any, tmp_path: Path, receiver: Receiver
) -> Sandbox:
    """A fresh sandbox with short processing delays and callbacks aimed at `receiver`, whose
    OAuth callback paths are registered redirect URIs."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PLATFORM_BASE_URLS = base_urls(live_server.url)
    settings.HTTP_TIMEOUT = (5.0, 20.0)
    box = Sandbox(live_server.url)
    box.configure(
        tiktok_processing_seconds=PROCESSING_S,
        tiktok_moderation_seconds=MODERATION_S,
        instagram_processing_seconds=PROCESSING_S,
        tiktok_webhook_url=receiver.url(TT_WEBHOOK),
        instagram_deauthorize_url=receiver.url(IG_DEAUTHORIZE),
        instagram_data_deletion_url=receiver.url(IG_DATA_DELETION),
        **registered_redirect_uris(receiver),
    )
    return box


@pytest.fixture
def short_timeouts(settings: Any) -> None:
    """Make the client give up quickly, for the `timeout` fault preset."""
    settings.HTTP_TIMEOUT = (5.0, CLIENT_READ_TIMEOUT_S)


# --- Videos ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def video_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 3.5 s 360x640 H.264/AAC MP4 that passes both platforms' checks."""
    return make_video(tmp_path_factory.mktemp("videos") / "good.mp4")


# Over the 64,000,000 bytes that go as one chunk (PLATFORMS §1.6(d) "Chunking in practice").
LARGE_VIDEO_BYTES = 65_000_000
# Two chunks for LARGE_VIDEO_BYTES: 32 MB + the remainder.
LARGE_CHUNK_BYTES = 32_000_000


@pytest.fixture(scope="session")
def large_video_bytes(video_bytes: bytes) -> bytes:
    """The same video padded past 64 MB with a trailing MP4 `free` box, so the upload must be
    chunked (PLATFORMS §1.6(d)) while the file stays a valid MP4."""
    padding = LARGE_VIDEO_BYTES - len(video_bytes) - 8
    return video_bytes + struct.pack(">I4s", padding + 8, b"free") + b"\0" * padding


@pytest.fixture(scope="session")
def short_video_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One second long: Instagram refuses Reels under 3 s (container ERROR 2207026)."""
    return make_video(tmp_path_factory.mktemp("videos") / "short.mp4", seconds=1.0)


# --- Connected accounts ---------------------------------------------------------------------


@pytest.fixture
def connect_tiktok(sandbox: Sandbox, receiver: Receiver) -> Callable[..., TokenSet]:
    """connect_tiktok(account, scopes) -> TokenSet: consent (control API), then our exchange."""

    def connect(account: str = "tt-public", scopes: tuple[str, ...] = ALL_TT_SCOPES) -> TokenSet:
        redirect_uri = receiver.url(TT_CALLBACK)
        verifier = tt.pkce_verifier()
        grant = sandbox.authorize(
            account, scopes, redirect_uri, code_challenge=tt.pkce_challenge(verifier=verifier)
        )
        return tt.exchange_code(
            code=grant["code"], redirect_uri=redirect_uri, code_verifier=verifier
        )

    return connect


@pytest.fixture
def connect_instagram(sandbox: Sandbox, receiver: Receiver) -> Callable[..., TokenSet]:
    """connect_instagram(account, scopes, long=True) -> TokenSet (long-lived by default)."""

    def connect(
        account: str = "ig-business", scopes: tuple[str, ...] = ALL_IG_SCOPES, long: bool = True
    ) -> TokenSet:
        redirect_uri = receiver.url(IG_CALLBACK)
        grant = sandbox.authorize(account, scopes, redirect_uri)
        short = ig.exchange_code(code=grant["code"], redirect_uri=redirect_uri)
        return ig.exchange_long_lived(short_lived_token=short.access_token) if long else short

    return connect


def a_day_ago() -> datetime:
    """An `issued_at` old enough that our client's 24 h rule lets a refresh through."""
    return timezone.now() - timedelta(hours=25)
