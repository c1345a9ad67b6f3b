"""A fresh sign-in counts as a recent authentication (DESIGN §1): connect, reconnect, disconnect
and connect links run straight after signing in, and ask for the password again only once
ACCOUNT_REAUTHENTICATION_TIMEOUT has passed since it was typed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from apps.clients.models import Client
from apps.connections.models import ConnectLink, LinkedAccount, State
from apps.staff.models import User
from tests.factories import DEFAULT_PASSWORD, LinkedAccountFactory
from tests.staff.helpers import enrol_totp, signed_in, totp_code

REAUTHENTICATE = reverse("account_reauthenticate")


def sign_in(user: User, *, code_for: str | None = None) -> HttpClient:
    """Sign in through allauth's form (and its TOTP step when `code_for` holds a secret)."""
    http = HttpClient()
    response = http.post(
        reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD}
    )
    if code_for is not None:
        assert response["Location"] == reverse("mfa_authenticate")
        response = http.post(reverse("mfa_authenticate"), {"code": totp_code(code_for)})
    assert response.status_code == 302 and response["Location"] == "/", response.content[:500]
    return http


def sensitive_post(http: HttpClient, action: str, client: Client, account: LinkedAccount) -> Any:
    path, data = {
        "connect": (f"/clients/{client.slug}/connect/tiktok/", {}),
        "reconnect": (f"/connections/{account.pk}/reconnect/", {}),
        "disconnect": (f"/connections/{account.pk}/disconnect/", {}),
        "create link": (
            f"/clients/{client.slug}/connect-links/",
            {"platform": "instagram", "email": "", "days": "7"},
        ),
    }[action]
    return http.post(path, data)


ACTIONS = ["connect", "reconnect", "disconnect", "create link"]


@pytest.mark.django_db
@pytest.mark.parametrize("action", ACTIONS)
def test_it_runs_a_sensitive_action_right_after_signing_in(manager, client_obj, action):
    account = LinkedAccountFactory(
        client=client_obj, platform="instagram", handle="northwind.coffee"
    )
    http = sign_in(manager)

    response = sensitive_post(http, action, client_obj, account)

    assert response.status_code == 302
    assert not response["Location"].startswith(REAUTHENTICATE)
    account.refresh_from_db()
    if action == "disconnect":
        assert account.state == State.DISCONNECT_PENDING
    if action == "create link":
        assert ConnectLink.objects.filter(client=client_obj).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("action", ACTIONS)
def test_it_asks_for_the_password_again_once_the_timeout_has_passed(manager, client_obj, action):
    account = LinkedAccountFactory(
        client=client_obj, platform="instagram", handle="northwind.coffee"
    )
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        http = sign_in(manager)
        traveller.shift(timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1))

        response = sensitive_post(http, action, client_obj, account)

    assert response.status_code == 302
    assert response["Location"].startswith(REAUTHENTICATE)
    account.refresh_from_db()
    assert account.state == State.ACTIVE
    assert not ConnectLink.objects.exists()


@pytest.mark.django_db
def test_a_sign_in_with_a_totp_code_counts_too(manager, client_obj):
    secret = enrol_totp(signed_in(manager))
    account = LinkedAccountFactory(client=client_obj, platform="tiktok", handle="northwind")
    http = sign_in(manager, code_for=secret)

    response = sensitive_post(http, "disconnect", client_obj, account)

    assert response["Location"] == f"/connections/{account.pk}/"
    account.refresh_from_db()
    assert account.state == State.DISCONNECT_PENDING


@pytest.mark.django_db
def test_a_session_that_never_typed_the_password_is_still_asked(manager, client_obj):
    account = LinkedAccountFactory(client=client_obj, platform="tiktok", handle="northwind")
    http = HttpClient()
    http.force_login(manager, backend="django.contrib.auth.backends.ModelBackend")

    response = sensitive_post(http, "disconnect", client_obj, account)

    assert response["Location"].startswith(REAUTHENTICATE)
