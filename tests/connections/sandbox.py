"""The sandbox over real HTTP, for any test package: `sandbox_on()` points the platform clients
at the sandbox on pytest-django's live server, `oauth_flow()` connects accounts through the real
OAuth flow. The connections and delivery conftests wrap them as fixtures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.test import Client as HttpClient

from apps.connections.models import LinkedAccount
from tests.contract.helpers import Sandbox, base_urls, query_of
from tests.factories import DEFAULT_PASSWORD

TT_SCOPES = ("user.info.basic", "user.info.profile", "video.publish", "video.list")
IG_SCOPES = ("instagram_business_basic", "instagram_business_content_publish")
SCOPES = {"tiktok": TT_SCOPES, "instagram": IG_SCOPES}
SANDBOX_ACCOUNTS = {"tiktok": "tt-public", "instagram": "ig-business"}


def sandbox_on(live_server: Any, settings: Any) -> Sandbox:
    settings.PUBLIC_BASE_URL = live_server.url
    settings.PLATFORM_BASE_URLS = base_urls(live_server.url)
    settings.HTTP_TIMEOUT = (5.0, 20.0)
    box = Sandbox(live_server.url)
    box.configure(
        tiktok_webhook_url=live_server.url + settings.WEBHOOK_PATHS["tiktok"],
        instagram_deauthorize_url=live_server.url + settings.WEBHOOK_PATHS["instagram_deauthorize"],
        instagram_data_deletion_url=live_server.url
        + settings.WEBHOOK_PATHS["instagram_data_deletion"],
    )
    return box


def staff_client(user: Any) -> HttpClient:
    """Signed in and freshly re-authenticated (connect/disconnect are sensitive actions)."""
    http = HttpClient()
    http.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = http.post("/accounts/reauthenticate/", {"password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return http


def callback_path(redirect: str) -> str:
    parts = urlsplit(redirect)
    return parts.path + ("?" + parts.query if parts.query else "")


def oauth_flow(sandbox: Sandbox) -> Callable[..., Any]:
    """oauth(http, client, platform, account=..., scopes=..., reconnect=None) -> callback response.

    Starts the connect on our side, approves consent on the sandbox (control API), then follows
    the platform's redirect back into our callback with the same browser session.
    """

    def run(
        http: HttpClient,
        client: Any,
        platform: str,
        *,
        account: str | None = None,
        scopes: tuple[str, ...] | None = None,
        reconnect: LinkedAccount | None = None,
    ) -> Any:
        start = (
            f"/connections/{reconnect.pk}/reconnect/"
            if reconnect
            else f"/clients/{client.slug}/connect/{platform}/"
        )
        response = http.post(start)
        assert response.status_code == 302, response.content[:500]
        params = query_of(response["Location"])
        grant = sandbox.authorize(
            account or SANDBOX_ACCOUNTS[platform],
            scopes or SCOPES[platform],
            params["redirect_uri"],
            state=params["state"],
            code_challenge=params.get("code_challenge", ""),
        )
        return http.get(callback_path(grant["redirect"]))

    return run
