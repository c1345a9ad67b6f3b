"""Helpers for the staff and sign-in tests."""

from __future__ import annotations

import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.test import Client
from django.urls import reverse

from apps.staff.models import User
from tests.factories import DEFAULT_PASSWORD


def signed_in(user: User, *, reauthenticated: bool = True, csrf_checks: bool = False) -> Client:
    """A test client signed in as `user`; by default also freshly re-authenticated, as the
    sensitive staff actions (role change, deactivate) require."""
    client = Client(enforce_csrf_checks=csrf_checks)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if reauthenticated and not csrf_checks:
        reauthenticate(client)
    return client


def reauthenticate(client: Client, password: str = DEFAULT_PASSWORD) -> None:
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response.content.decode()[:2000]


def totp_code(secret: str) -> str:
    """The current RFC 6238 code for `secret` (30 s period, 6 digits: allauth's defaults)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def enrol_totp(client: Client) -> str:
    """Activate TOTP through allauth's pages (the client must be re-authenticated); returns the
    secret."""
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302, response.content.decode()[:3000]
    return secret
