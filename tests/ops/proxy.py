"""A stand-in for the TLS-terminating proxy in front of gunicorn (deploy/README.md).

It forwards every request to the upstream server as the nginx site in the guide does: `Host`
passed through, `X-Forwarded-Proto: https` set (whatever the client sent), the peer's address
appended to `X-Forwarded-For`. It speaks plain HTTP on both sides, so a client of it treats the
connection as the https one it stands for (`BrowserBehindTls`).
"""

from __future__ import annotations

import http.client
import threading
from http.cookiejar import Cookie, DefaultCookiePolicy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


class TlsProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.forwarded = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    name: value
                    for name, value in self.headers.items()
                    if name.lower() not in HOP_BY_HOP | {"x-forwarded-proto", "x-forwarded-for"}
                }
                prior = self.headers.get("X-Forwarded-For")
                peer = self.client_address[0]
                headers["X-Forwarded-For"] = f"{prior}, {peer}" if prior else peer
                headers["X-Forwarded-Proto"] = "https"
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                finally:
                    upstream.close()
                proxy.forwarded += 1
                self.send_response(response.status, response.reason)
                for name, value in response.getheaders():
                    if name.lower() not in HOP_BY_HOP | {"server", "date"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.origin = f"https://127.0.0.1:{self.port}"  # what a browser in front of it sends

    def start(self) -> TlsProxy:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _TlsCookiePolicy(DefaultCookiePolicy):
    def return_ok_secure(self, cookie: Cookie, request: Any) -> bool:
        return True


class BrowserBehindTls(requests.Session):
    """A browser on the far side of the proxy. Its connection is https, so the app's https-only
    (Secure) cookies go back with every request; requests, seeing plain http, would keep them.

    requests copies the session's cookies into a jar of its own for each request (and each
    redirect copies that jar, policy included): the policy is set on that copy."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", 30)
        return super().request(*args, **kwargs)

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        prepared = super().prepare_request(request)
        jar = prepared._cookies  # type: ignore[attr-defined]
        jar.set_policy(_TlsCookiePolicy())
        prepared.headers.pop("Cookie", None)
        prepared.prepare_cookies(jar)
        return prepared
