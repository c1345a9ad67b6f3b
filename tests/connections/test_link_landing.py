"""The brand's connect-link landing page names the agency that asks, and still shows nothing
about the client but its name and the platform (DESIGN §5)."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client as HttpClient

from apps.connections.services import links


def visible_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.mark.django_db
def test_the_landing_page_names_the_agency_that_asks(settings, manager, staff_member, client_obj):
    settings.AGENCY_NAME = "Northstar Social"
    client_obj.notes = "Internal: contract renewal in May"
    client_obj.save()
    _, url = links.connect_link_create(
        client=client_obj, platform="tiktok", actor=manager, email="owner@northwind.example"
    )

    response = HttpClient().get(urlsplit(url).path)

    assert response.status_code == 200
    page = visible_text(response)
    assert "Northstar Social asks you to connect Northwind Coffee's TikTok account" in page
    assert "Your agency" not in page
    for leak in (
        manager.name,
        manager.email,
        staff_member.name,
        "owner@northwind.example",
        "contract renewal",
        client_obj.slug,
        "Europe/London",
    ):
        assert leak not in response.content.decode(), leak
