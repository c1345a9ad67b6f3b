"""JSON control API for tests: `/_emulator/control/api/…` (exists only when the sandbox is
mounted). Documented in README.md, "Control page and JSON control API".

It takes no CSRF token, so it guards itself against cross-site requests instead (`_cross_site`):
a page on another site that a demo user visits must not reset the sandbox or remove apps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.emulator import actions, clock, state
from apps.emulator.consent import pkce_challenge
from apps.emulator.control import serialize
from apps.emulator.control.services import (
    ControlError,
    account_add,
    account_update,
    config_update,
    fault_add,
)
from apps.emulator.faults import ENDPOINTS, presets_for
from apps.emulator.grants import (
    GrantRefused,
    denial_url,
    grant,
    parse_scopes,
    pkce_refusal,
    redirect_uri_refusal,
    required_scopes,
)
from apps.emulator.models import (
    FaultRule,
    InstagramContainer,
    LedgerEntry,
    SandboxAccount,
    SandboxToken,
    TikTokPublish,
    WebhookDelivery,
)
from apps.emulator.tiktok.posting import settle_all

View = Callable[..., HttpResponse]

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Encodings an HTML form sends even when it has no fields: refused with or without a body. The
# third form encoding, text/plain, is refused only with a body (like any type but JSON), because
# wsgiref (runserver, the test live server) reports a request without Content-Type as text/plain.
FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def _reply(payload: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(payload, status=status, safe=False)


def _cross_site(request: HttpRequest) -> JsonResponse | None:
    """The refusal for a request that may come from another site's page, or None.

    Browsers send `Origin` on every POST and `Sec-Fetch-Site` on every request; clients without
    them (tests, curl, our own server-side code) are not browsers a page could drive. The own
    origin is computed as Django's CSRF check does for the HTML page, CSRF_TRUSTED_ORIGINS
    included, so a deployment whose forms work behind a proxy works here too.
    """
    origin = request.headers.get("Origin")
    own = ("https://" if request.is_secure() else "http://") + request.get_host()
    if origin is not None and origin not in {own, *settings.CSRF_TRUSTED_ORIGINS}:
        return _reply({"error": f"cross-origin request refused (Origin {origin})"}, 403)
    fetch_site = request.headers.get("Sec-Fetch-Site", "")
    if fetch_site in {"cross-site", "same-site"}:
        return _reply({"error": f"cross-site request refused (Sec-Fetch-Site {fetch_site})"}, 403)
    if request.method not in SAFE_METHODS and (
        request.content_type in FORM_CONTENT_TYPES
        or (request.body and request.content_type != "application/json")
    ):
        # JSON cannot come from a form, nor from another site's script without a CORS preflight.
        return _reply({"error": "send the body as JSON (Content-Type: application/json)"}, 415)
    return None


def control_view(*methods: str) -> Callable[[View], View]:
    """JSON view without a CSRF token but refusing cross-site requests (`_cross_site`): parses
    the body into `request.data`, maps ControlError to 400."""

    def decorator(view: View) -> View:
        @csrf_exempt
        @require_http_methods(list(methods))
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            refused = _cross_site(request)
            if refused is not None:
                return refused
            state.get_config()  # seeds lazily
            data: Any = {}
            if request.body:
                try:
                    data = json.loads(request.body)
                except ValueError:
                    return _reply({"error": "the body must be JSON"}, 400)
            if not isinstance(data, dict):
                return _reply({"error": "the body must be a JSON object"}, 400)
            request.data = data  # type: ignore[attr-defined]
            try:
                return view(request, *args, **kwargs)
            except (ControlError, ValueError) as exc:
                return _reply({"error": str(exc)}, 400)

        return wrapped

    return decorator


@control_view("GET")
def overview(request: HttpRequest) -> HttpResponse:
    """GET api/state — everything at once."""
    settle_all()
    return _reply(
        {
            "config": serialize.config(state.get_config()),
            "accounts": [serialize.account(a) for a in SandboxAccount.objects.all()],
            "tokens": [
                serialize.token(t) for t in SandboxToken.objects.select_related("account")[:200]
            ],
            "faults": [serialize.fault(f) for f in FaultRule.objects.all()],
            "ledger": [serialize.ledger(e) for e in LedgerEntry.objects.select_related("account")],
            "publishes": [
                serialize.publish(p) for p in TikTokPublish.objects.select_related("account")
            ],
            "containers": [
                serialize.container(c) for c in InstagramContainer.objects.select_related("account")
            ],
            "webhooks": [serialize.delivery(d) for d in WebhookDelivery.objects.all()[:100]],
        }
    )


@control_view("POST")
def reset(request: HttpRequest) -> HttpResponse:
    """POST api/reset — forget everything and seed the default accounts again."""
    state.reset()
    return _reply({"ok": True})


@control_view("GET", "POST")
def accounts(request: HttpRequest) -> HttpResponse:
    """GET lists accounts; POST {platform, key, username, …traits} creates one."""
    if request.method == "POST":
        return _reply(serialize.account(account_add(request.data)), 201)  # type: ignore[attr-defined]
    return _reply([serialize.account(a) for a in SandboxAccount.objects.all()])


@control_view("GET", "POST", "PATCH")
def account_detail(request: HttpRequest, key: str) -> HttpResponse:
    """GET one account; POST/PATCH {trait: value, …} changes traits."""
    account = get_object_or_404(SandboxAccount, key=key)
    if request.method != "GET":
        account_update(account, request.data)  # type: ignore[attr-defined]
    return _reply(serialize.account(account))


@control_view("POST")
def account_action(request: HttpRequest, key: str, action: str) -> HttpResponse:
    """POST api/accounts/<key>/<action> {reason?} — a platform-side action."""
    account = get_object_or_404(SandboxAccount, key=key)
    reason = int(request.data.get("reason", 1))  # type: ignore[attr-defined]
    return _reply(actions.perform(account, action, reason=reason))


@control_view("POST")
def authorize(request: HttpRequest) -> HttpResponse:
    """POST api/authorize {account, scopes, redirect_uri, state, code_challenge} — approve the
    consent page headlessly; returns the callback URL the browser would be sent to, with the code
    (None when the platform refuses the account: the URL then carries the error).

    A TikTok account needs the S256 `code_challenge`, as the consent page does (PLATFORMS §1.2):
    the code is bound to it, so the token exchange checks the verifier."""
    data = request.data  # type: ignore[attr-defined]
    account = get_object_or_404(SandboxAccount, key=str(data.get("account", "")))
    redirect_uri = str(data.get("redirect_uri", ""))
    problem = redirect_uri_refusal(account.platform, redirect_uri)
    if problem:
        raise ControlError(problem)
    problem = pkce_refusal(
        account.platform,
        challenge=str(data.get("code_challenge", "")),
        method=str(data.get("code_challenge_method", "S256")),
    )
    if problem:
        raise ControlError(problem)
    raw = data.get("scopes", "")
    scopes, unknown = parse_scopes(
        account.platform, ",".join(raw) if isinstance(raw, list) else raw
    )
    if unknown:
        raise ControlError(f"unknown scopes {unknown}")
    scopes = list(dict.fromkeys([*sorted(required_scopes(account.platform)), *scopes]))
    state_value = str(data.get("state", ""))
    try:
        url, code = grant(
            account=account,
            scopes=scopes,
            redirect_uri=redirect_uri,
            state=state_value,
            code_challenge=pkce_challenge(account.platform, data),
        )
    except GrantRefused as refused:
        url = denial_url(account.platform, redirect_uri, state_value, refused)
        return _reply({"redirect": url, "code": None, "scopes": [], "error_reason": refused.reason})
    return _reply({"redirect": url, "code": code.value, "scopes": scopes})


@control_view("GET", "POST", "DELETE")
def faults(request: HttpRequest) -> HttpResponse:
    """GET lists rules and endpoint names; POST adds a rule; DELETE clears all (or ?endpoint=)."""
    if request.method == "POST":
        return _reply(serialize.fault(fault_add(request.data)), 201)  # type: ignore[attr-defined]
    if request.method == "DELETE":
        rules = FaultRule.objects.all()
        if request.GET.get("endpoint"):
            rules = rules.filter(endpoint=request.GET["endpoint"])
        deleted, _ = rules.delete()
        return _reply({"deleted": deleted})
    return _reply(
        {
            "rules": [serialize.fault(f) for f in FaultRule.objects.all()],
            "endpoints": {name: presets_for(name) for name in ENDPOINTS},
        }
    )


@control_view("DELETE")
def fault_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deleted, _ = FaultRule.objects.filter(pk=pk).delete()
    return _reply({"deleted": deleted})


@control_view("GET", "POST")
def clock_view(request: HttpRequest) -> HttpResponse:
    """GET the sandbox time; POST {seconds} (or {hours}/{days}) advances it."""
    if request.method == "POST":
        data = request.data  # type: ignore[attr-defined]
        try:
            seconds = float(data.get("seconds", 0)) + 3600 * float(data.get("hours", 0))
            seconds += 86400 * float(data.get("days", 0))
        except (TypeError, ValueError) as exc:
            raise ControlError("seconds/hours/days must be numbers") from exc
        clock.advance(seconds)
    config = state.get_config()
    return _reply({"now": clock.now(), "offset_seconds": config.clock_offset_seconds})


@control_view("GET", "POST", "PATCH")
def config(request: HttpRequest) -> HttpResponse:
    """GET the knobs; POST/PATCH {field: value} changes them (lifetimes, delays, targets…)."""
    if request.method != "GET":
        config_update(request.data)  # type: ignore[attr-defined]
    return _reply(serialize.config(state.get_config()))


@control_view("GET")
def ledger(request: HttpRequest) -> HttpResponse:
    """GET api/ledger[?platform=&account=] — everything published (settles due tasks first)."""
    settle_all()
    entries = LedgerEntry.objects.select_related("account")
    if request.GET.get("platform"):
        entries = entries.filter(platform=request.GET["platform"])
    if request.GET.get("account"):
        entries = entries.filter(account__key=request.GET["account"])
    return _reply([serialize.ledger(e) for e in entries])


@control_view("GET")
def tokens_list(request: HttpRequest) -> HttpResponse:
    """GET api/tokens[?account=] — masked."""
    rows = SandboxToken.objects.select_related("account")
    if request.GET.get("account"):
        rows = rows.filter(account__key=request.GET["account"])
    return _reply([serialize.token(t) for t in rows])


@control_view("GET")
def webhooks(request: HttpRequest) -> HttpResponse:
    """GET api/webhooks — deliveries the sandbox sent (newest first)."""
    return _reply([serialize.delivery(d) for d in WebhookDelivery.objects.all()[:200]])
