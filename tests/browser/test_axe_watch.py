"""The axe-core watch of tests/browser/conftest.py itself: it judges each page as the browser
leaves it, in its final state, and names the rule, the element and axe's summary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import AxeAudit

pytestmark = [pytest.mark.browser]

PAGE = """<!DOCTYPE html><html lang="en"><head><title>{title}</title></head>
<body><main><h1>{title}</h1>{body}<a href="/next/">next</a></main></body></html>"""
FAINT = '<p style="color:#aaa;background:#fff">faint text</p>'


@pytest.fixture
def watched(browser: Any) -> Iterator[tuple[Any, AxeAudit]]:
    """A page on a stand-in origin whose documents are served by the test, under watch."""
    audit = AxeAudit(origin="http://switchboard.test")
    context = browser.new_context()
    pages = {
        "/faint/": PAGE.format(title="Faint", body=FAINT),
        "/next/": PAGE.format(title="Next", body="<p>fine</p>"),
        "/later/": PAGE.format(title="Later", body='<div id="slot"></div>'),
    }

    def serve(route: Any) -> None:
        path = route.request.url.removeprefix("http://switchboard.test")
        route.fulfill(status=200, content_type="text/html", body=pages[path])

    context.route("http://switchboard.test/**", serve)
    audit.watch(context)  # registered last, it sees each request first, then hands it on
    yield context.new_page(), audit
    context.close()


def test_it_reports_a_page_the_browser_left(watched):
    page, audit = watched
    page.goto("http://switchboard.test/faint/")
    page.get_by_role("link", name="next").click()
    page.wait_for_url("**/next/")

    [violation] = audit.violations
    assert (violation.url, violation.rule, violation.impact, violation.target) == (
        "http://switchboard.test/faint/",
        "color-contrast",
        "serious",
        "p",
    )
    report = audit.report()
    assert "color-contrast (serious)" in report and "insufficient color contrast" in report


def test_it_judges_the_page_as_it_was_when_left(watched):
    page, audit = watched
    page.goto("http://switchboard.test/later/")
    page.evaluate(f"document.getElementById('slot').innerHTML = {FAINT!r}")  # like an htmx swap
    page.goto("http://switchboard.test/next/")

    assert [(v.url, v.rule) for v in audit.violations] == [
        ("http://switchboard.test/later/", "color-contrast")
    ]


def test_a_clean_page_and_other_origins_pass(watched):
    page, audit = watched
    page.goto("http://switchboard.test/next/")
    assert audit.check(page) == []
    page.goto("about:blank")
    page.set_content(PAGE.format(title="Elsewhere", body=FAINT))  # not one of our pages
    assert audit.check(page) == []
    assert audit.violations == []
