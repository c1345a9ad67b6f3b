"""Connect links (DESIGN §5, §10): managers send the brand a signed, expiring, single-use link;
the brand authorizes on its own device with no staff session; staff see who completed it."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client as HttpClient
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.connections.models import AuthorizationRequest, ConnectLink, LinkedAccount, State
from apps.connections.services import links
from tests.connections.conftest import SCOPES, callback_path, staff_client
from tests.contract.helpers import query_of


def text(response) -> str:
    return html.unescape(response.content.decode())


def _create_link(user, client_obj, *, platform="tiktok", email="owner@northwind.example", days=7):
    http = staff_client(user)
    response = http.post(
        f"/clients/{client_obj.slug}/connect-links/",
        {"platform": platform, "email": email, "days": days},
    )
    assert response.status_code == 302, response.content[:300]
    return http, response


def _path_from_mail(message) -> str:
    [url] = re.findall(r"https?://\S+/connect/\S+/", message.body)
    return urlsplit(url).path


def _complete(sandbox, path: str, *, account: str = "tt-public", platform: str = "tiktok"):
    """The brand, in its own browser: open the link, continue, consent, come back."""
    brand = HttpClient()
    landing = brand.get(path)
    assert landing.status_code == 200, landing.content[:300]
    start = brand.post(path)
    assert start.status_code == 302
    params = query_of(start["Location"])
    grant = sandbox.authorize(
        account,
        SCOPES[platform],
        params["redirect_uri"],
        state=params["state"],
        code_challenge=params.get("code_challenge", ""),
    )
    return brand, brand.get(callback_path(grant["redirect"]))


# --- Creating and revoking -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["manager", "admin_user"])
def test_a_manager_or_admin_creates_a_link_and_it_is_emailed(request, client_obj, role):
    user = request.getfixturevalue(role)
    http, response = _create_link(user, client_obj, days=3)

    assert response["Location"] == f"/clients/{client_obj.slug}/"
    link = ConnectLink.objects.get()
    assert link.created_by == user and link.platform == "tiktok"
    assert link.sent_to == "owner@northwind.example"
    assert timedelta(days=2, hours=23) < link.expires_at - timezone.now() <= timedelta(days=3)
    [message] = mail.outbox
    assert message.to == ["owner@northwind.example"]
    assert "Northwind Coffee" in message.subject and "TikTok" in message.subject
    assert f"{settings.AGENCY_NAME} asks you to connect" in message.body
    path = _path_from_mail(message)
    assert links.link_from_signed(path.split("/")[2]) == link
    # The client page shows the new link once (to copy), then only its status.
    page = text(http.get(f"/clients/{client_obj.slug}/"))
    assert path in page and "emailed to owner@northwind.example" in page
    assert "Open" in page and "Revoke" in page
    assert path not in text(http.get(f"/clients/{client_obj.slug}/"))
    event = AuditEvent.objects.get(action="connect_link.created")
    assert event.actor == user


@pytest.mark.django_db
def test_staff_cannot_create_links_or_see_the_form(staff_member, client_obj):
    http = staff_client(staff_member)
    response = http.post(
        f"/clients/{client_obj.slug}/connect-links/", {"platform": "tiktok", "days": 7}
    )
    assert response.status_code == 404
    assert not ConnectLink.objects.exists() and not mail.outbox
    assert "Connect links" not in text(http.get(f"/clients/{client_obj.slug}/"))


@pytest.mark.django_db
def test_an_invalid_form_creates_nothing(manager, client_obj):
    _create_link(manager, client_obj, email="not-an-email", days=90)
    assert not ConnectLink.objects.exists() and not mail.outbox


@pytest.mark.django_db
def test_a_link_without_email_is_shown_but_not_sent(manager, client_obj):
    http, _ = _create_link(manager, client_obj, email="")
    assert ConnectLink.objects.get().sent_to == "" and not mail.outbox
    assert 'data-testid="new-connect-link"' in text(http.get(f"/clients/{client_obj.slug}/"))


@pytest.mark.django_db
def test_revoking_a_link(manager, client_obj):
    link, url = links.connect_link_create(client=client_obj, platform="tiktok", actor=manager)
    http = staff_client(manager)
    response = http.post(f"/connect-links/{link.pk}/revoke/", follow=True)
    assert response.redirect_chain[-1][0] == f"/clients/{client_obj.slug}/"
    assert "The connect link was revoked." in [str(m) for m in response.context["messages"]]
    link.refresh_from_db()
    assert link.status == "revoked" and link.revoked_by == manager
    assert AuditEvent.objects.filter(action="connect_link.revoked").count() == 1
    landing = HttpClient().get(urlsplit(url).path)
    assert landing.status_code == 410 and "withdrawn by the agency" in text(landing)


# --- The brand's landing page ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_landing_page_shows_only_the_client_name_and_platform(
    manager, staff_member, client_obj
):
    client_obj.notes = "Internal: contract renewal in May"
    client_obj.save()
    _, url = links.connect_link_create(
        client=client_obj, platform="instagram", actor=manager, email="owner@northwind.example"
    )
    brand = HttpClient()
    response = brand.get(urlsplit(url).path)
    assert response.status_code == 200
    body = text(response)
    assert "Northwind Coffee" in body and "Instagram" in body
    for leak in (
        manager.name,
        manager.email,
        staff_member.name,
        "owner@northwind.example",
        "contract renewal",
        client_obj.slug,
        "Europe/London",
    ):
        assert leak not in body, leak
    # The brand is not signed in and sees no staff navigation.
    assert "/clients/" not in body and "Sign out" not in body


@pytest.mark.django_db
def test_a_tampered_or_unknown_link_is_refused(manager, client_obj):
    _, url = links.connect_link_create(client=client_obj, platform="tiktok", actor=manager)
    path = urlsplit(url).path
    brand = HttpClient()
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    for bad in (tampered, "/connect/nonsense/", "/connect/abc:def/"):
        response = brand.get(bad)
        assert response.status_code == 404 and "not a valid connect link" in text(response)
        assert brand.post(bad).status_code == 404
    assert not AuthorizationRequest.objects.exists()


@pytest.mark.django_db
def test_an_expired_link_is_refused(manager, client_obj):
    link, url = links.connect_link_create(client=client_obj, platform="tiktok", actor=manager)
    brand = HttpClient()
    with time_machine.travel(link.expires_at + timedelta(seconds=1)):
        response = brand.get(urlsplit(url).path)
        assert response.status_code == 410 and "It has expired." in text(response)
        assert brand.post(urlsplit(url).path).status_code == 410
    assert not AuthorizationRequest.objects.exists()


# --- Completing a link through the sandbox ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_brand_completes_a_link_without_any_staff_session(sandbox, manager, client_obj):
    http, _ = _create_link(manager, client_obj)
    path = _path_from_mail(mail.outbox[0])

    brand, response = _complete(sandbox, path)

    assert response.status_code == 302 and response["Location"].startswith("/connect/result/")
    body = text(brand.get(response["Location"]))
    assert "Thank you" in body and "Northwind Coffee" in body and "TikTok" in body
    assert "_auth_user_id" not in brand.session  # still nobody signed in
    account = LinkedAccount.objects.get()
    link = ConnectLink.objects.get()
    assert account.client == client_obj and account.state == State.ACTIVE
    assert account.connected_via_link == link and account.connected_by is None
    assert link.used_at is not None and link.used_account == account
    request = AuthorizationRequest.objects.get()
    assert request.initiated_by is None and request.connect_link == link
    for action in ("connection.connected", "connect_link.completed"):
        event = AuditEvent.objects.get(action=action)
        assert event.actor is None and event.actor_label == "connect-link"
    # Staff see who completed it and when.
    page = text(http.get(f"/clients/{client_obj.slug}/"))
    assert "Used" in page and "completed" in page and account.label in page
    assert "via connect link" in text(http.get(f"/connections/{account.pk}/"))

    # Single use: a second visit (or another tab) is refused.
    again = HttpClient().get(path)
    assert again.status_code == 410 and "already used" in text(again)
    assert HttpClient().post(path).status_code == 410


@pytest.mark.django_db(transaction=True)
def test_a_link_is_single_use_even_with_two_tabs_open(sandbox, manager, client_obj):
    """Two consent round trips started from one link: the first completes, the second is
    refused at the callback and stores nothing."""
    _create_link(manager, client_obj, platform="instagram")
    path = _path_from_mail(mail.outbox[0])
    tab_a, tab_b = HttpClient(), HttpClient()
    starts = [tab.post(path) for tab in (tab_a, tab_b)]
    grants = [
        sandbox.authorize(
            "ig-business",
            SCOPES["instagram"],
            query_of(s["Location"])["redirect_uri"],
            state=query_of(s["Location"])["state"],
        )
        for s in starts
    ]
    first = tab_a.get(callback_path(grants[0]["redirect"]))
    second = tab_b.get(callback_path(grants[1]["redirect"]))
    assert "connect link is used" in text(tab_b.get(second["Location"]))
    assert "Thank you" in text(tab_a.get(first["Location"]))
    assert LinkedAccount.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_link_revoked_mid_flow_is_refused_at_the_callback(sandbox, manager, client_obj):
    _create_link(manager, client_obj)
    path = _path_from_mail(mail.outbox[0])
    brand = HttpClient()
    start = brand.post(path)
    ConnectLink.objects.update(revoked_at=timezone.now())
    params = query_of(start["Location"])
    grant = sandbox.authorize(
        "tt-public",
        SCOPES["tiktok"],
        params["redirect_uri"],
        state=params["state"],
        code_challenge=params["code_challenge"],
    )
    response = brand.get(callback_path(grant["redirect"]))
    assert "connect link is revoked" in text(brand.get(response["Location"]))
    assert not LinkedAccount.objects.exists()
