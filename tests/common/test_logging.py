"""Every configured log handler redacts secrets, runserver's request log included (DESIGN §10)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from django.core.servers.basehttp import WSGIRequestHandler

from apps.common.logging import redact_log_text

SECRETS = ("abc123", "xyz789", "AQBx-y_z")


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """What the configured handlers write (they hold the stream they were given at startup)."""
    stream = io.StringIO()
    loggers = (logging.getLogger(), logging.getLogger("django.server"))
    handlers = [h for lg in loggers for h in lg.handlers if h.name in ("console", "django.server")]
    assert sorted(h.name for h in handlers) == ["console", "django.server"]
    previous = [h.setStream(stream) for h in handlers]  # type: ignore[attr-defined]
    yield stream
    for handler, old in zip(handlers, previous, strict=True):
        if old is not None:
            handler.setStream(old)  # type: ignore[attr-defined]


def test_it_redacts_secrets_in_runserver_request_lines(output):
    # Exactly what runserver does for each request (its logger has its own handler).
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
    handler.request = None
    request_line = (
        "GET /_emulator/instagram-graph/me?fields=id,username"
        "&access_token=abc123&client_secret=xyz789&code=AQBx-y_z HTTP/1.1"
    )
    handler.log_message('"%s" %s %s', request_line, "200", "57")

    line = output.getvalue()
    assert not any(secret in line for secret in SECRETS), line
    assert (
        '"GET /_emulator/instagram-graph/me?fields=id,username'
        '&access_token=[redacted]&client_secret=[redacted]&code=[redacted] HTTP/1.1" 200 57'
    ) in line


def test_it_redacts_our_own_log_lines_and_their_tracebacks(output):
    log = logging.getLogger("apps.some.module")
    log.warning("Calling %s", "https://graph.instagram.com/me?access_token=abc123&fields=id")
    try:
        raise ValueError("POST /oauth/token failed: client_secret=xyz789&code=AQBx-y_z")
    except ValueError:
        log.exception("It failed")

    text = output.getvalue()
    assert not any(secret in text for secret in SECRETS), text
    assert "me?access_token=[redacted]&fields=id" in text
    assert "ValueError: POST /oauth/token failed: client_secret=[redacted]&code=[redacted]" in text


def test_django_logs_only_through_our_handlers(output):
    # Django's default configuration adds a DEBUG-only console to "django" that printed every
    # line a second time, unredacted.
    assert logging.getLogger("django").handlers == []
    logging.getLogger("django.request").warning("Not Found: %s", "/x?access_token=abc123")
    assert output.getvalue().count("Not Found") == 1
    assert "abc123" not in output.getvalue()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/cb?code=A*b!c&state=s1", "/cb?code=[redacted]&state=s1"),
        (
            "grant_type=refresh_token&refresh_token=rft.x",
            "grant_type=refresh_token&refresh_token=[redacted]",
        ),
        ("password=hunter2&email=a@b.example", "password=[redacted]&email=a@b.example"),
        ("?ACCESS_TOKEN=abc123", "?ACCESS_TOKEN=[redacted]"),
        ("Authorization: Bearer act.abcdefgh", "Authorization: Bearer [redacted]"),
        ("body: client_secret=xyz789&grant_type=x", "body: client_secret=[redacted]&grant_type=x"),
        ("/x?state=s1&scope=user.info.basic", "/x?state=s1&scope=user.info.basic"),
        ("/x?barcode=123&fields=id", "/x?barcode=123&fields=id"),
        ('"GET /m/eyJhIjoxfQ:1tX:sig HTTP/1.1" 200', '"GET /m/[redacted] HTTP/1.1" 200'),
        ("GET /connect/abc.def:ghi/ 200", "GET /connect/[redacted]/ 200"),
        ("GET /connect/result/k3y:xyz/ 200", "GET /connect/result/[redacted]/ 200"),
        ("GET /invitations/t0ken/ 302", "GET /invitations/[redacted]/ 302"),
        ("GET /clients/mango/ 200", "GET /clients/mango/ 200"),
        ("GET /media/12/ 200", "GET /media/12/ 200"),
        ("GET /clients/x/connect/tiktok/ 302", "GET /clients/x/connect/tiktok/ 302"),
        (
            "link https://sb.example:8000/connect/abc:def/ sent",
            "link https://sb.example:8000/connect/[redacted]/ sent",
        ),
    ],
)
def test_it_redacts_secret_names_and_token_shapes_only(text, expected):
    assert redact_log_text(text) == expected
