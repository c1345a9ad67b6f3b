"""After the callback (post/redirect/get): the callback handles the platform's reply once and
redirects to a page that reads the stored outcome, so a reload shows the same result — while the
callback URL itself, replayed, still refuses the consumed state (DESIGN §5, §10)."""

from __future__ import annotations

import html
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client as HttpClient
from django.utils import timezone

from apps.connections.models import AuthorizationRequest, LinkedAccount
from apps.connections.services import links, oauth
from tests.connections.conftest import SCOPES, callback_path, staff_client
from tests.connections.helpers import connect
from tests.contract.helpers import query_of
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db(transaction=True)


def text(response) -> str:
    return html.unescape(response.content.decode())


def _brand_callback(sandbox, manager, client_obj, account="tt-public"):
    """The brand opens a fresh link, consents as `account` and comes back; returns
    (the brand's browser, the callback URL it came back on, the callback's response)."""
    client_obj.notes = "Internal: contract renewal in May"
    client_obj.save()
    _, url = links.connect_link_create(client=client_obj, platform="tiktok", actor=manager)
    brand = HttpClient()
    start = brand.post(urlsplit(url).path)
    params = query_of(start["Location"])
    grant = sandbox.authorize(
        account,
        SCOPES["tiktok"],
        params["redirect_uri"],
        state=params["state"],
        code_challenge=params["code_challenge"],
    )
    callback = callback_path(grant["redirect"])
    return brand, callback, brand.get(callback)


def test_reloading_the_brands_thank_you_page_shows_the_same_success(sandbox, manager, client_obj):
    brand, callback, response = _brand_callback(sandbox, manager, client_obj)
    assert response.status_code == 302
    result_url = response["Location"]
    assert result_url.startswith("/connect/result/")

    pages = [brand.get(result_url) for _ in range(2)]  # the page, then a reload

    account = LinkedAccount.objects.get()
    for page in pages:
        body = text(page)
        assert page.status_code == 200
        assert "Thank you" in body and "Northwind Coffee" in body and "TikTok" in body
        assert "Nothing was stored" not in body and "didn't go through" not in body
        # Only the client's name, the platform and the outcome (DESIGN §5).
        for leak in (account.handle, manager.name, "contract renewal", client_obj.slug):
            assert leak not in body, leak
    assert LinkedAccount.objects.count() == 1
    # The callback URL itself, replayed, still refuses the consumed state.
    replay = brand.get(callback)
    assert replay.status_code == 400 and "already used" in text(replay)


def test_reloading_the_brands_page_after_a_refusal_shows_the_same_refusal(
    sandbox, oauth, admin_user, manager, client_obj
):
    connect(oauth, admin_user, ClientFactory(name="Other Brand"), "tiktok")
    brand, _, response = _brand_callback(sandbox, manager, client_obj)

    pages = [brand.get(response["Location"]) for _ in range(2)]

    for page in pages:
        body = text(page)
        assert page.status_code == 200
        assert "already connected to another client" in body
        assert "Northwind Coffee" in body and "Other Brand" not in body
        assert "Thank you" not in body


def test_reloading_after_a_staff_connect_shows_the_account(
    sandbox, oauth, staff_member, client_obj
):
    http = staff_client(staff_member)
    start = http.post(f"/clients/{client_obj.slug}/connect/tiktok/")
    params = query_of(start["Location"])
    grant = sandbox.authorize(
        "tt-public",
        SCOPES["tiktok"],
        params["redirect_uri"],
        state=params["state"],
        code_challenge=params["code_challenge"],
    )
    response = http.get(callback_path(grant["redirect"]))
    account = LinkedAccount.objects.get()
    assert response["Location"] == f"/connections/{account.pk}/"

    for _ in range(2):
        page = http.get(response["Location"])
        assert page.status_code == 200 and account.label in text(page)
    replay = http.get(callback_path(grant["redirect"]))
    assert replay.status_code == 400 and "already used" in text(replay)
    assert LinkedAccount.objects.count() == 1


def test_a_staff_refusal_survives_a_reload(sandbox, oauth, admin_user, client_obj):
    connect(oauth, admin_user, ClientFactory(name="Other Brand"), "tiktok")
    http = staff_client(admin_user)
    start = http.post(f"/clients/{client_obj.slug}/connect/tiktok/")
    params = query_of(start["Location"])
    grant = sandbox.authorize(
        "tt-public",
        SCOPES["tiktok"],
        params["redirect_uri"],
        state=params["state"],
        code_challenge=params["code_challenge"],
    )
    response = http.get(callback_path(grant["redirect"]))
    assert response["Location"].startswith("/connections/oauth-result/")

    for _ in range(2):
        page = http.get(response["Location"])
        assert page.status_code == 200
        assert "already connected to another client" in text(page)
        assert f"/clients/{client_obj.slug}/" in text(page)  # a way back
    replay = http.get(callback_path(grant["redirect"]))
    assert replay.status_code == 400 and "already used" in text(replay)


# --- Who may read a result page ----------------------------------------------------------------


def _refused_staff_request(client_obj, initiator) -> AuthorizationRequest:
    now = timezone.now()
    return AuthorizationRequest.objects.create(
        state="refused-state",
        pkce_verifier="v" * 64,
        client=client_obj,
        platform="tiktok",
        initiated_by=initiator,
        session_key_hash="x",
        expires_at=now + AuthorizationRequest.LIFETIME,
        consumed_at=now,
        outcome=AuthorizationRequest.Outcome.REFUSED,
        outcome_detail="other client",
    )


@pytest.mark.django_db
def test_only_the_initiator_reads_a_staff_result_page(
    client, staff_member, manager, admin_user, outsider, client_obj
):
    key = oauth.result_key(_refused_staff_request(client_obj, staff_member))
    url = f"/connections/oauth-result/{key}/"
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for other in (manager, admin_user, outsider):  # even those who may see the client
        client.force_login(other)
        assert client.get(url).status_code == 404
    client.force_login(staff_member)
    page = client.get(url)
    assert page.status_code == 200 and "already connected to another client" in text(page)


@pytest.mark.django_db
def test_a_result_key_opens_only_its_own_kind_of_page(client, staff_member, manager, client_obj):
    key = oauth.result_key(_refused_staff_request(client_obj, staff_member))
    assert HttpClient().get(f"/connect/result/{key}/").status_code == 404  # not the brand's page
    link, _ = links.connect_link_create(client=client_obj, platform="tiktok", actor=manager)
    brand_request = AuthorizationRequest.objects.create(
        state="brand-refused",
        pkce_verifier="v" * 64,
        client=client_obj,
        platform="tiktok",
        connect_link=link,
        expires_at=timezone.now(),
        consumed_at=timezone.now(),
        outcome=AuthorizationRequest.Outcome.DENIED,
        outcome_detail="denied",
    )
    brand_key = oauth.result_key(brand_request)
    assert "Connection cancelled" in text(HttpClient().get(f"/connect/result/{brand_key}/"))
    client.force_login(staff_member)
    assert client.get(f"/connections/oauth-result/{brand_key}/").status_code == 404
    assert client.get(f"/connections/oauth-result/{key}x/").status_code == 404  # tampered
    assert client.get("/connections/oauth-result/1/").status_code == 404  # unsigned id


@pytest.mark.django_db
def test_a_result_page_lives_a_week(client, staff_member, client_obj):
    request = _refused_staff_request(client_obj, staff_member)
    key = oauth.result_key(request)
    with time_machine.travel(timezone.now() + oauth.RESULT_PAGE_LIFETIME + timedelta(minutes=1)):
        client.force_login(staff_member)
        assert client.get(f"/connections/oauth-result/{key}/").status_code == 404
