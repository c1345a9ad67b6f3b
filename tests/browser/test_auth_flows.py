"""Sign-in, TOTP enrolment and invitation acceptance, driven through Chromium."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from apps.staff.models import Role, User
from tests.browser.conftest import sign_in_as
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.staff.helpers import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


DASHBOARD = re.compile(r"^https?://[^/]+/$")


def fresh_totp_code(secret: str) -> str:
    # A code typed in the last seconds of its 30 s window may expire before the server checks it.
    if 30 - time.time() % 30 < 3:
        time.sleep(30 - time.time() % 30 + 0.2)
    return totp_code(secret)


def collect_csp_violations(page: Any) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return violations


def sign_in_with_password(page: Any, email: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto(reverse("account_login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_it_signs_in_through_the_form(page: Any, live_server: Any) -> None:
    UserFactory(name="Sam Staff", email="sam@agency.example", role=Role.STAFF)
    violations = collect_csp_violations(page)
    sign_in_with_password(page, "sam@agency.example")
    page.wait_for_url(DASHBOARD)
    assert page.locator(".usermenu-name").inner_text() == "Sam Staff"
    assert violations == []


def test_it_shows_a_clear_error_for_a_wrong_password(page: Any, live_server: Any) -> None:
    UserFactory(email="sam@agency.example")
    sign_in_with_password(page, "sam@agency.example", password="not-my-password-1")
    error = page.locator(".errorlist.nonfield")
    error.wait_for()
    assert "not correct" in error.inner_text()
    assert "/accounts/login/" in page.url


def test_it_enrols_totp_from_the_profile_and_then_asks_for_a_code(
    page: Any, live_server: Any
) -> None:
    user = UserFactory(name="Ada Admin", email="ada@agency.example", role=Role.ADMIN)
    violations = collect_csp_violations(page)
    sign_in_with_password(page, user.email)
    page.wait_for_url(DASHBOARD)

    page.get_by_role("link", name="Ada Admin").click()
    page.get_by_role("link", name="Set up").click()
    page.get_by_role("link", name="Activate").click()
    # MFA changes need a recent authentication; signing in a moment ago is one, so allauth
    # doesn't ask for the password again.
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))

    qr = page.locator("img.totp-qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "QR code did not render"
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(fresh_totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url(lambda url: "/activate/" not in url)
    assert user.authenticator_set.filter(type="totp").exists()  # type: ignore[attr-defined]

    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_url(re.compile(r"/accounts/login/"))

    sign_in_with_password(page, user.email)
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.get_by_label("Code").fill(fresh_totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(DASHBOARD)
    assert page.locator(".usermenu-name").inner_text() == "Ada Admin"
    assert violations == []


def test_an_invited_person_joins_from_the_emailed_link(
    page: Any, new_context: Any, live_server: Any
) -> None:
    admin = UserFactory(name="Ada Admin", email="ada@agency.example", role=Role.ADMIN)
    sign_in_as(page, admin, live_server)
    page.goto(reverse("staff:invite"))
    page.get_by_label("Email").fill("nia@agency.example")
    page.get_by_label("Role").select_option("manager")
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_url(re.compile(r"/staff/$"))
    assert "nia@agency.example" in page.locator("text=Pending invitations >> xpath=..").inner_text()

    link = re.search(r"https?://\S+(/invitations/\S+/)", mail.outbox[-1].body)
    assert link is not None
    invitee = new_context().new_page()
    violations = collect_csp_violations(invitee)
    invitee.goto(link.group(1))
    invitee.get_by_label("Your name").fill("Nia Newbie")
    invitee.get_by_label("Password", exact=True).fill("tulip-orbit-canyon-47")
    invitee.get_by_label("Password (again)").fill("tulip-orbit-canyon-47")
    invitee.get_by_role("button", name="Join and sign in").click()
    invitee.wait_for_url(DASHBOARD)
    assert "Welcome to Switchboard" in invitee.content()
    assert User.objects.get(email="nia@agency.example").role == Role.MANAGER

    # The link is single use.
    invitee.goto(link.group(1))
    assert "ask your admin for a new invitation" in invitee.content()
    assert violations == []
