"""Contract-test plumbing: a real HTTP receiver on 127.0.0.1 and a driver for the sandbox's JSON
control API. Shared with the browser test of the sandbox consent page.

The tests talk to the sandbox only over HTTP, exactly as Switchboard (and a real platform) would:
no `apps.emulator` model is imported here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

CONTROL = "/_emulator/control/api"
ALL_TT_SCOPES = (
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.upload",
    "video.publish",
)
ALL_IG_SCOPES = ("instagram_business_basic", "instagram_business_content_publish")
TT_CALLBACK = "/oauth/callback/tt/"
IG_CALLBACK = "/oauth/callback/ig/"
TT_WEBHOOK = "/webhooks/tt/"
IG_DEAUTHORIZE = "/webhooks/ig/deauthorize/"
IG_DATA_DELETION = "/webhooks/ig/data-deletion/"


def base_urls(server_url: str) -> dict[str, str]:
    """`PLATFORM_BASE_URLS` for a sandbox mounted on `server_url` (README "Address rule")."""
    root = server_url.rstrip("/") + "/_emulator"
    return {
        "tiktok_auth": root + "/tiktok",
        "tiktok_api": root + "/tiktok-api",
        "instagram_auth": root + "/instagram",
        "instagram_api": root + "/instagram-api",
        "instagram_graph": root + "/instagram-graph",
    }


def registered_redirect_uris(receiver: Receiver) -> dict[str, list[str]]:
    """Sandbox config registering `receiver`'s OAuth callbacks as the apps' redirect URIs
    (README "Registered app": only registered URIs, matched exactly, are redirected to)."""
    return {
        "tiktok_registered_redirect_uris": [receiver.url(TT_CALLBACK)],
        "instagram_registered_redirect_uris": [receiver.url(IG_CALLBACK)],
    }


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass(frozen=True)
class Captured:
    """One request the receiver got, byte for byte."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Receiver:
    """A tiny threaded HTTP server standing in for Switchboard's public endpoints.

    It captures every request (OAuth callbacks, webhooks, Meta callbacks) with its raw body and
    headers, and serves the files put into `files` at `/media/<name>` (for `video_url` and
    PULL_FROM_URL fetches); `/redirect/<name>` answers 302 to `/media/<name>`.
    """

    base: str = ""
    requests: list[Captured] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _capture(self) -> Captured:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                captured = Captured(
                    method=self.command,
                    path=parts.path,
                    query=query_of(self.path),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                with receiver._lock:
                    receiver.requests.append(captured)
                return captured

            def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path.startswith("/media/") and path.removeprefix("/media/") in receiver.files:
                    self._send(200, receiver.files[path.removeprefix("/media/")], "video/mp4")
                    return
                if path.startswith("/redirect/"):
                    self._send(302, b"", "text/plain", Location="/media/" + path[10:])
                    return
                if path.startswith("/media/"):
                    self._send(404, b"not found", "text/plain")
                    return
                self._capture()
                self._send(200, b"<!doctype html><title>callback</title>ok", "text/html")

            def do_POST(self) -> None:
                captured = self._capture()
                if captured.path == IG_DATA_DELETION:
                    body = (
                        b'{"url":"https://switchboard.example/deletion/1","confirmation_code":"c1"}'
                    )
                else:
                    body = b"{}"
                self._send(200, body, "application/json")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
        self.files.clear()

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, name: str, data: bytes) -> str:
        """Publish `data` at a URL the sandbox can fetch."""
        self.files[name] = data
        return self.url("/media/" + name)

    def received(self, path: str) -> list[Captured]:
        with self._lock:
            return [r for r in self.requests if r.path == path]


class ControlError(AssertionError):
    pass


class Sandbox:
    """The sandbox's JSON control API over real HTTP (README "The sandbox")."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def url(self, path: str) -> str:
        return self.base_url + path

    def api(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        # No keep-alive Session: Django's dev server answers reused connections ~40 ms slower.
        response = requests.request(
            method, self.url(CONTROL + path), json=body, params=params or None, timeout=30
        )
        if response.status_code >= 300:
            raise ControlError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json()

    # --- state --------------------------------------------------------------------------------
    def reset(self) -> None:
        self.api("POST", "/reset")

    def configure(self, **fields: Any) -> dict[str, Any]:
        return self.api("PATCH", "/config", fields)

    def advance(self, seconds: float = 0, *, hours: float = 0, days: float = 0) -> None:
        self.api("POST", "/clock", {"seconds": seconds, "hours": hours, "days": days})

    def account(self, key: str) -> dict[str, Any]:
        return self.api("GET", f"/accounts/{key}")

    def update_account(self, key: str, **traits: Any) -> dict[str, Any]:
        return self.api("PATCH", f"/accounts/{key}", traits)

    def action(self, key: str, action: str, **body: Any) -> dict[str, Any]:
        return self.api("POST", f"/accounts/{key}/{action}", body)

    def fault(self, endpoint: str, **rule: Any) -> dict[str, Any]:
        return self.api("POST", "/faults", {"endpoint": endpoint, **rule})

    def faults(self) -> dict[str, Any]:
        return self.api("GET", "/faults")

    def clear_faults(self) -> None:
        self.api("DELETE", "/faults")

    def ledger(self, **filters: str) -> list[dict[str, Any]]:
        return self.api("GET", "/ledger", **filters)

    def state(self) -> dict[str, Any]:
        return self.api("GET", "/state")

    def webhooks(self) -> list[dict[str, Any]]:
        return self.api("GET", "/webhooks")

    def authorize(
        self,
        account: str,
        scopes: tuple[str, ...] | list[str],
        redirect_uri: str,
        state: str = "s",
        code_challenge: str = "",
    ) -> dict[str, Any]:
        """Approve the consent page headlessly: {redirect, code, scopes}."""
        return self.api(
            "POST",
            "/authorize",
            {
                "account": account,
                "scopes": ",".join(scopes),
                "redirect_uri": redirect_uri,
                "state": state,
                "code_challenge": code_challenge,
            },
        )
