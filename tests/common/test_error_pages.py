"""Our own 404 and 500 pages (Django's debug 404 listed every URL pattern in the demo)."""

from __future__ import annotations

from django.test import RequestFactory
from django.views.defaults import server_error


def test_an_unknown_url_gets_our_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert [t.name for t in response.templates][:2] == ["404.html", "base.html"]
    page = response.content.decode()
    assert "Page not found · Switchboard" in page
    assert 'href="/">Back to the dashboard' in page


def test_a_signed_in_user_keeps_the_navigation_on_the_404_page(client, staff_member):
    client.force_login(staff_member)
    page = client.get("/clients/no-such-client/nothing/").content.decode()
    assert "Page not found" in page and "Sign out" in page


def test_a_server_error_gets_our_500_page():
    response = server_error(RequestFactory().get("/"))  # no request context, as in production
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page and 'href="/">Back to the dashboard' in page
