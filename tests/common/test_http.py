from __future__ import annotations

import logging

import pytest
import requests

from apps.common import http


class FakeRaw:
    def __init__(self, status=200, body=b'{"ok": true}', url="https://example.test/x"):
        self.status_code, self._body, self.url, self.headers = (
            status,
            body,
            url,
            {"Content-Type": "application/json"},
        )

    def iter_content(self, chunk_size):
        yield self._body

    def close(self):
        pass


def test_it_always_sets_a_timeout_and_never_follows_redirects(monkeypatch):
    seen = {}

    def fake_request(method, url, **kwargs):
        seen.update(kwargs)
        return FakeRaw()

    monkeypatch.setattr(requests, "request", fake_request)
    response = http.request("GET", "https://example.test/x")
    assert response.json() == {"ok": True}
    assert seen["timeout"] and seen["allow_redirects"] is False


def test_it_redacts_secrets_in_logged_urls(monkeypatch, caplog):
    monkeypatch.setattr(requests, "request", lambda *a, **k: FakeRaw())
    with caplog.at_level(logging.INFO, logger="switchboard.http"):
        http.request("GET", "https://example.test/me?access_token=IGAAsecretvalue123&fields=id")
    assert "IGAAsecretvalue123" not in caplog.text
    assert "access_token=%5Bredacted%5D" in caplog.text


def test_it_raises_one_error_type_on_timeouts(monkeypatch):
    def boom(*a, **k):
        raise requests.ReadTimeout("read timed out")

    monkeypatch.setattr(requests, "request", boom)
    with pytest.raises(http.HttpError) as exc:
        http.request("POST", "https://example.test/x?client_secret=abc")
    assert exc.value.timeout is True
    assert "abc" not in str(exc.value)


def test_it_refuses_oversized_responses(monkeypatch):
    monkeypatch.setattr(requests, "request", lambda *a, **k: FakeRaw(body=b"x" * 100))
    with pytest.raises(http.HttpError, match="larger than"):
        http.request("GET", "https://example.test/x", max_bytes=10)


def test_redact_text_masks_bearer_tokens():
    assert "act.abcdef123" not in http.redact_text("Authorization: Bearer act.abcdef123")
