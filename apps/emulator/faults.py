"""Fault injection per endpoint (DESIGN §9): error rate, specific error, latency, lost response.

A rule matches an endpoint name from `ENDPOINTS` (or "*" for all). When it fires it can
- add latency (`latency_ms`, slept with `sleep`, which tests patch),
- answer with an error instead of running the endpoint (`error` preset or `http_status`+`body`),
- or run the endpoint — the side effect happens — and then answer with the error anyway
  (`lost_response`, default error `http_504`), as when a response is lost on the way back.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.models import F
from django.http import HttpRequest, HttpResponse

from apps.emulator.common import fbtrace_id, json_response, log_id
from apps.emulator.models import FaultRule
from apps.emulator.state import get_config

sleep = time.sleep  # patched in tests
_random = random.Random()  # noqa: S311 - fault sampling, not security

# endpoint name -> error family (decides which presets apply and the body shape).
ENDPOINTS: dict[str, str] = {
    "tiktok.authorize": "html",
    "tiktok.token": "tiktok_oauth",
    "tiktok.revoke": "tiktok_oauth",
    "tiktok.user_info": "tiktok_api",
    "tiktok.creator_info": "tiktok_api",
    "tiktok.video_init": "tiktok_api",
    "tiktok.inbox_init": "tiktok_api",
    "tiktok.upload": "raw",
    "tiktok.status": "tiktok_api",
    "tiktok.cancel": "tiktok_api",
    "tiktok.video_list": "tiktok_api",
    "instagram.authorize": "html",
    "instagram.code_exchange": "ig_oauth",
    "instagram.exchange": "graph",
    "instagram.refresh": "graph",
    "instagram.me": "graph",
    "instagram.media_create": "graph",
    "instagram.container": "graph",
    "instagram.media_publish": "graph",
    "instagram.publishing_limit": "graph",
    "instagram.permissions_delete": "graph",
}

# (status, code/message…) per family; generic http_* and timeout work for every family.
TIKTOK_API_PRESETS: dict[str, tuple[int, str]] = {
    "rate_limit_exceeded": (429, "API rate limit exceeded, please retry later."),
    "internal_error": (500, "Internal server error, please retry."),
    "access_token_invalid": (401, "The access token is invalid or not found in the request."),
    "scope_not_authorized": (401, "The user did not authorize the scope required."),
    "invalid_param": (400, "The request parameters are invalid."),
    "spam_risk_too_many_posts": (403, "The user has reached the daily post limit."),
    "spam_risk_user_banned_from_posting": (403, "The user is banned from posting."),
    "reached_active_user_cap": (403, "The daily active creator quota has been reached."),
}
TIKTOK_OAUTH_PRESETS: dict[str, tuple[int, str]] = {
    "server_error": (500, "Internal server error."),
    "temporarily_unavailable": (503, "The service is temporarily unavailable."),
    "invalid_grant": (200, "Authorization code or refresh token is invalid or expired."),
    "invalid_client": (401, "Client key or secret is invalid."),
    "invalid_request": (400, "The request is invalid."),
}
# name -> (http status, code, subcode, message, is_transient) — PLATFORMS §2.9.
GRAPH_PRESETS: dict[str, tuple[int, int, int | None, str, bool]] = {
    "throttled": (400, 4, None, "Application request limit reached", True),
    "user_throttled": (400, 17, None, "User request limit reached", True),
    "page_throttled": (400, 32, None, "Page request limit reached", True),
    "app_limit": (400, 341, None, "Application limit reached", True),
    "transient": (500, 2, None, "Service temporarily unavailable", True),
    "unknown": (500, 1, None, "An unknown error occurred", True),
    "token_expired": (400, 190, 463, "Error validating access token: Session has expired", False),
    "spam": (400, 4, 2207051, "The action was blocked as suspected spam.", False),
    "daily_limit": (400, 9, 2207042, "The account has reached its daily publishing limit.", False),
    "upload_error": (500, -1, 2207001, "An error occurred while uploading the media.", True),
    "download_timeout": (400, -2, 2207003, "Timed out downloading the media.", True),
}
IG_OAUTH_PRESETS: dict[str, tuple[int, str]] = {
    "oauth_error": (400, "Matching code was not found or was already used"),
    "server_error": (500, "An unknown error has occurred."),
}
GENERIC = {"http_500", "http_502", "http_503", "http_504", "timeout"}


def presets_for(endpoint: str) -> list[str]:
    """Preset error names valid for `endpoint` (for the control page and API validation)."""
    family = ENDPOINTS.get(endpoint, "raw")
    table: dict[str, dict[str, Any]] = {
        "tiktok_api": TIKTOK_API_PRESETS,
        "tiktok_oauth": TIKTOK_OAUTH_PRESETS,
        "graph": GRAPH_PRESETS,
        "ig_oauth": IG_OAUTH_PRESETS,
    }
    return sorted(table.get(family, {})) + sorted(GENERIC)


def graph_error(
    status: int, code: int, subcode: int | None, message: str, *, transient: bool = False
) -> HttpResponse:
    """The Graph API error envelope (PLATFORMS §2.9)."""
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
        error["error_user_title"] = message
        error["error_user_msg"] = message
    error["is_transient"] = transient
    error["fbtrace_id"] = fbtrace_id()
    return json_response({"error": error}, status=status)


def tiktok_api_error(status: int, code: str, message: str) -> HttpResponse:
    """The TikTok v2 envelope with a non-ok error (PLATFORMS §1.6, §1.8)."""
    return json_response(
        {"data": {}, "error": {"code": code, "message": message, "log_id": log_id()}},
        status=status,
    )


def tiktok_oauth_error(status: int, error: str, description: str) -> HttpResponse:
    """The TikTok OAuth error shape (PLATFORMS §1.3)."""
    return json_response(
        {"error": error, "error_description": description, "log_id": log_id()}, status=status
    )


def ig_oauth_error(status: int, message: str) -> HttpResponse:
    """api.instagram.com's error shape (PLATFORMS §2.3)."""
    return json_response(
        {"error_type": "OAuthException", "code": status, "error_message": message}, status=status
    )


def fault_response(endpoint: str, rule: FaultRule) -> HttpResponse:
    """The response a firing rule answers with."""
    if rule.body is not None:
        return json_response(rule.body, status=rule.http_status or 500)
    name = rule.error or "http_504"
    family = ENDPOINTS.get(endpoint, "raw")
    if name == "timeout":
        # The client should have given up long before; if it waits, it gets a gateway timeout.
        sleep((rule.latency_ms or 30_000) / 1000)
        name = "http_504"
    if name.startswith("http_"):
        status = rule.http_status or int(name.removeprefix("http_"))
        return HttpResponse(f"sandbox fault {status}", status=status, content_type="text/plain")
    if family == "tiktok_api" and name in TIKTOK_API_PRESETS:
        status, message = TIKTOK_API_PRESETS[name]
        return tiktok_api_error(rule.http_status or status, name, message)
    if family == "tiktok_oauth" and name in TIKTOK_OAUTH_PRESETS:
        status, message = TIKTOK_OAUTH_PRESETS[name]
        return tiktok_oauth_error(rule.http_status or status, name, message)
    if family == "graph" and name in GRAPH_PRESETS:
        status, code, subcode, message, transient = GRAPH_PRESETS[name]
        return graph_error(rule.http_status or status, code, subcode, message, transient=transient)
    if family == "ig_oauth" and name in IG_OAUTH_PRESETS:
        status, message = IG_OAUTH_PRESETS[name]
        return ig_oauth_error(rule.http_status or status, message)
    return HttpResponse(f"sandbox fault {name}", status=rule.http_status or 500)


def _firing_rule(endpoint: str) -> FaultRule | None:
    for rule in FaultRule.objects.filter(endpoint__in=[endpoint, "*"]):
        if rule.remaining == 0:
            continue
        if rule.rate < 1.0 and _random.random() >= rule.rate:
            continue
        updates: dict[str, Any] = {"hits": F("hits") + 1}
        if rule.remaining is not None:
            updates["remaining"] = F("remaining") - 1
        FaultRule.objects.filter(pk=rule.pk).update(**updates)
        return rule
    return None


def fault_point(
    endpoint: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a sandbox view so the fault rules for `endpoint` apply to it."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown fault endpoint {endpoint!r}")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            get_config()  # seeds the sandbox lazily on first use (fresh databases, resets)
            rule = _firing_rule(endpoint)
            if rule is None:
                return view(request, *args, **kwargs)
            if rule.latency_ms and rule.error != "timeout":
                sleep(rule.latency_ms / 1000)
            if rule.lost_response:
                view(request, *args, **kwargs)  # the side effect happens; the answer is lost
                return fault_response(endpoint, rule)
            if not rule.error and rule.http_status is None and rule.body is None:
                return view(request, *args, **kwargs)  # latency only
            return fault_response(endpoint, rule)

        return wrapped

    return decorator
