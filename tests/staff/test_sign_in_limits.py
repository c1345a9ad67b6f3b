"""Sign-in limits: an office of fifty behind one address signs in at nine o'clock, while guessing
one account's password, or many from one address, is still stopped (DESIGN §10)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.account.adapter import get_adapter
from django.test import Client, RequestFactory
from django.urls import reverse

from apps.staff.models import User
from apps.staff.ratelimits import ACTION_BY_VIEW
from tests.common.test_settings import run_manage
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
OFFICE = "203.0.113.10"  # the agency's office: everyone behind one public address
NINE_O_CLOCK = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
WRONG = "not-the-password-42"


def sign_in(email: str, password: str = DEFAULT_PASSWORD, *, address: str = OFFICE, **headers):
    return Client(REMOTE_ADDR=address, **headers).post(
        LOGIN, {"login": email, "password": password}
    )


def signed_in(response) -> bool:
    return response.status_code == 302 and response.url == reverse("dashboard")


def limits(settings, **rates: str) -> None:
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, **rates}


def test_fifty_people_behind_one_address_sign_in_within_a_second():
    office = UserFactory.create_batch(50)
    with time_machine.travel(NINE_O_CLOCK, tick=False):
        responses = [sign_in(person.email) for person in office]
    assert [signed_in(r) for r in responses] == [True] * 50


def test_right_passwords_are_accepted_while_many_sign_ins_are_in_flight(settings):
    """allauth counts a failure before it checks the password; counted per address, every
    sign-in in flight held a slot and the 11th of an office was refused its right password."""
    limits(settings, login_failed_ip="3/5m/ip")
    office = UserFactory.create_batch(11)
    adapter = get_adapter()
    with time_machine.travel(NINE_O_CLOCK, tick=False):
        for person in office[:10]:  # checked against the limits, password not yet checked
            request = RequestFactory().post(LOGIN, REMOTE_ADDR=OFFICE)
            adapter.pre_authenticate(request, email=person.email, password=DEFAULT_PASSWORD)
        assert signed_in(sign_in(office[10].email))


def test_wrong_passwords_lock_that_account_and_no_other(settings):
    ada, bob = UserFactory(), UserFactory()
    with time_machine.travel(NINE_O_CLOCK, tick=False):
        for _ in range(5):
            assert sign_in(ada.email, WRONG).status_code == 200
        refused = sign_in(ada.email)  # the right password, too late
        assert refused.status_code == 200
        assert "Too many failed sign-ins for this account. Try again in 5 minutes." in (
            refused.content.decode()
        )
        assert signed_in(sign_in(bob.email))  # same office, other account
        # Another network changes nothing for a locked account.
        assert not signed_in(sign_in(ada.email, address="198.51.100.20"))
    with time_machine.travel(NINE_O_CLOCK + timedelta(minutes=5, seconds=1), tick=False):
        assert signed_in(sign_in(ada.email))


def test_many_failures_from_one_address_lock_that_address(settings):
    limits(settings, login_failed_ip="3/5m/ip")
    people = UserFactory.create_batch(4)
    with time_machine.travel(NINE_O_CLOCK, tick=False):
        for person in people[:3]:  # a guess at each of three accounts
            assert sign_in(person.email, WRONG).status_code == 200
        refused = sign_in(people[3].email)
        assert not signed_in(refused)
        assert "Too many failed sign-ins from your network. Try again in 5 minutes." in (
            refused.content.decode()
        )
        assert signed_in(sign_in(people[3].email, address="198.51.100.20"))
    with time_machine.travel(NINE_O_CLOCK + timedelta(minutes=5, seconds=1), tick=False):
        assert signed_in(sign_in(people[3].email))


def test_a_right_password_does_not_count_against_the_address(settings):
    limits(settings, login_failed_ip="2/5m/ip")
    office = UserFactory.create_batch(5)
    with time_machine.travel(NINE_O_CLOCK, tick=False):
        assert sign_in(office[0].email, WRONG).status_code == 200
        assert all(signed_in(sign_in(person.email)) for person in office[1:])
        assert sign_in(office[0].email, WRONG).status_code == 200
        assert not signed_in(sign_in(office[0].email))  # the second failure used the budget


def test_the_client_address_is_read_through_the_trusted_proxies(settings):
    limits(settings, login_failed_ip="2/5m/ip")
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    ada, bob = UserFactory(), UserFactory()
    guesser = {"address": proxy, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    with time_machine.travel(NINE_O_CLOCK, tick=False):
        for _ in range(2):
            sign_in(ada.email, WRONG, **guesser)
        assert not signed_in(sign_in(ada.email, **guesser))
        # Someone else behind the same proxy is a different address.
        assert signed_in(sign_in(bob.email, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.8"))
        # The guesser cannot pick an address: only the entry our proxy appended counts.
        spoofed = {"address": proxy, "HTTP_X_FORWARDED_FOR": "192.0.2.99, 198.51.100.7"}
        assert not signed_in(sign_in(bob.email, **spoofed))


def test_without_trusted_proxies_forwarded_addresses_are_ignored(settings):
    limits(settings, login_failed_ip="2/5m/ip")
    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == 0
    ada, bob = UserFactory(), UserFactory()
    with time_machine.travel(NINE_O_CLOCK, tick=False):
        for n in range(2):
            sign_in(ada.email, WRONG, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        refused = sign_in(bob.email, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert not signed_in(refused)


def test_too_many_sign_in_submissions_get_our_page_with_when_to_retry(settings):
    limits(settings, login="2/5m/ip")
    person: User = UserFactory()
    with time_machine.travel(NINE_O_CLOCK, tick=False):
        assert sign_in(person.email, WRONG).status_code == 200
        assert sign_in(person.email, WRONG).status_code == 200
        response = sign_in(person.email)
    assert response.status_code == 429
    assert response["Retry-After"] == "300"
    assert [t.name for t in response.templates][:2] == ["429.html", "base.html"]
    page = response.content.decode()
    assert "Too many attempts · Switchboard" in page
    assert "Try again in 5 minutes." in page
    assert f'href="{LOGIN}">Back to sign in' in page
    with time_machine.travel(NINE_O_CLOCK + timedelta(minutes=5, seconds=1), tick=False):
        assert signed_in(sign_in(person.email))


def test_every_limited_page_gets_our_page_with_its_own_wait(settings, staff_member):
    limits(settings, reauthenticate="1/3m/user")
    client = Client()
    with time_machine.travel(NINE_O_CLOCK, tick=False):
        client.force_login(staff_member)
        client.post(reverse("account_reauthenticate"), {"password": WRONG})
        response = client.post(reverse("account_reauthenticate"), {"password": WRONG})
    assert response.status_code == 429
    assert response["Retry-After"] == "180"
    page = response.content.decode()
    assert "Try again in 3 minutes." in page
    assert 'href="/">Back to the dashboard' in page


def test_the_pages_named_for_their_limits_exist_and_have_them():
    from allauth.account import app_settings
    from django.urls import get_resolver

    names = get_resolver().reverse_dict
    assert [view for view in ACTION_BY_VIEW if view not in names] == []
    assert set(ACTION_BY_VIEW.values()) <= set(app_settings.RATE_LIMITS)


def test_an_address_rate_in_the_account_limit_refuses_to_start():
    """The old LOGIN_FAILED_RATE_LIMIT default (10/m/ip,5/5m/key) counted sign-ins in flight
    against the address: it has its own variable now."""
    result = run_manage("check", extra_env={"LOGIN_FAILED_RATE_LIMIT": "10/m/ip,5/5m/key"})
    assert result.returncode != 0
    assert "LOGIN_FAILED_RATE_LIMIT='10/m/ip,5/5m/key'" in result.stderr


def test_the_trusted_proxy_count_comes_from_the_environment():
    code = "from django.conf import settings; print(settings.ALLAUTH_TRUSTED_PROXY_COUNT)"
    assert run_manage("shell", "--no-imports", "-c", code).stdout.split() == ["0"]
    behind_two = run_manage(
        "shell", "--no-imports", "-c", code, extra_env={"TRUSTED_PROXY_COUNT": "2"}
    )
    assert behind_two.stdout.split() == ["2"], behind_two.stderr


@pytest.mark.django_db(transaction=True)
def test_a_counter_held_for_over_a_second_makes_a_sign_in_wait_not_fail(settings):
    """allauth refuses when its counter lock is busy for over 1 s; ours waits (up to
    RATE_LIMIT_LOCK_WAIT), as fifty sign-ins from one office queue for one counter."""
    import threading

    from allauth.core.internal import ratelimit as allauth_ratelimit

    from apps.staff.ratelimits import apply_lock_wait

    assert allauth_ratelimit.CACHE_LOCK_WAIT_TIMEOUT == settings.RATE_LIMIT_LOCK_WAIT == 10.0
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with allauth_ratelimit.cache_lock("switchboard-test-counter") as locked:
            assert locked
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    threading.Timer(1.5, release.set).start()
    started = time.monotonic()
    with allauth_ratelimit.cache_lock("switchboard-test-counter") as locked:
        waited = time.monotonic() - started
    holder.join()
    assert locked and 1.3 < waited < 5
    settings.RATE_LIMIT_LOCK_WAIT = 0.2
    apply_lock_wait()
    try:
        assert allauth_ratelimit.CACHE_LOCK_WAIT_TIMEOUT == 0.2
    finally:
        settings.RATE_LIMIT_LOCK_WAIT = 10.0
        apply_lock_wait()
