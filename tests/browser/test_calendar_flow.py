"""The calendar in a real browser, at a desktop and a phone width: the week and the month with a
few posts, from a post to its page; axe-core checks every document (the `new_context` fixture),
nothing is wider than the screen, and on a phone the month is a list of the days with posts.

Screenshots go to /tmp/switchboard-shots/ (never into the repository).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from apps.publishing.models import CrossPost
from tests.browser.conftest import assert_accessible, sign_in_as
from tests.factories import ClientFactory, MembershipFactory
from tests.publishing.post_builders import post, target

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/switchboard-shots")


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def assert_fits(page: Any, name: str) -> None:
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), f"{name}: the page scrolls sideways"


@pytest.fixture
def posts(admin_user, client_obj) -> dict[str, CrossPost]:
    """Posts of two clients today (UTC, the all-clients calendar's default) in several states."""
    today = timezone.now().astimezone(UTC).date()

    def at(hour: int) -> datetime:
        return datetime.combine(today, time(hour), tzinfo=UTC)

    kumo = ClientFactory(name="Kumo Ramen", timezone="Asia/Tokyo")
    MembershipFactory(client=kumo, user=admin_user)
    found = {
        "both": post(
            client_obj,
            at(9),
            targets={"tiktok": "published", "instagram": "failed"},
            caption="Spring menu is here #coffee",
            caption_overrides={"instagram": "Spring menu is here ☕ link in bio"},
        ),
        "scheduled": post(client_obj, at(12), targets={"tiktok": "scheduled"}),
        "draft": post(kumo, at(15), targets={}, draft=True),
        "published": post(kumo, at(6), targets={"instagram": "published"}),
    }
    tiktok = target(found["both"], "tiktok")
    tiktok.options = {"privacy_level": "PUBLIC_TO_EVERYONE", "allow_comment": True}
    tiktok.save()
    instagram = target(found["both"], "instagram")
    instagram.state_reason = "Instagram could not fetch the video."
    instagram.findings = [
        {
            "platform": "instagram",
            "rule": "media.fetch",
            "severity": "error",
            "message": "Instagram could not download the video.",
            "fix": "Check that PUBLIC_BASE_URL is reachable from the internet.",
            "fix_url": "",
        }
    ]
    instagram.save()
    return found


@pytest.mark.parametrize("width", [1280, 390])
def test_the_calendar_week_month_and_a_post_page(
    new_context, live_server, admin_user, client_obj, posts, width
):
    from playwright.sync_api import expect

    page = new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in_as(page, admin_user, live_server)
    phone = width < 760

    page.goto("/")
    expect(page.locator("#due-soon")).to_be_visible()
    if phone:
        page.locator("label.nav-toggle-label").click()
    page.get_by_role("link", name="Calendar", exact=True).click()
    expect(page.get_by_role("heading", name="Calendar", level=1)).to_be_visible()

    # The week: every post of today, drafts dashed, each with its accounts and state.
    week = page.locator(".cal-week")
    expect(week.locator(".cal-post")).to_have_count(4)
    expect(week.locator(".cal-day--today .cal-post")).to_have_count(4)
    expect(week.locator(".cal-post--draft")).to_contain_text("Draft")
    expect(week.locator(".cal-post--published")).to_contain_text("Published")
    expect(week.locator(".cal-post--partially_published")).to_contain_text("Partially published")
    assert_accessible(page)
    assert_fits(page, f"week {width}")
    shot(page, f"calendar-week-{width}")
    if phone:  # a list of the days with posts: today alone
        expect(week.locator(".cal-day:visible")).to_have_count(1)
    else:
        expect(week.locator(".cal-day:visible")).to_have_count(7)

    # The month, by its plain link.
    page.get_by_role("link", name="Month").click()
    month = page.locator(".cal-month")
    expect(month.locator(".cal-post")).to_have_count(4)
    assert_accessible(page)
    assert_fits(page, f"month {width}")
    shot(page, f"calendar-month-{width}")
    weekdays = page.locator(".cal-weekdays")
    if phone:
        expect(weekdays).to_be_hidden()
        expect(month.locator(".cal-day:visible")).to_have_count(1)
        expect(month.locator(".cal-day--today .cal-dow")).to_be_visible()  # full date in a list
    else:
        expect(weekdays).to_be_visible()
        days = month.locator(".cal-day")
        assert days.count() in (28, 35, 42)
        first, second = days.nth(0).bounding_box(), days.nth(1).bounding_box()
        assert first["y"] == second["y"] and second["x"] > first["x"]  # side by side: a grid

    # Previous and next are plain links; back to this month with Today.
    page.get_by_role("link", name=re.compile("^Next")).click()
    expect(page.locator(".cal-post")).to_have_count(0)
    expect(page.get_by_text(re.compile("^No posts in"))).to_be_visible()
    page.get_by_role("link", name="Today").click()
    expect(page.locator(".cal-post")).to_have_count(4)

    # From a post to its page.
    page.locator(".cal-post--partially_published a").click()
    expect(
        page.get_by_role("heading", name=re.compile("Post for Northwind Coffee"))
    ).to_be_visible()
    expect(page.locator("#preview video")).to_have_count(1)
    expect(page.locator("#preview")).to_contain_text("Spring menu is here ☕ link in bio")
    targets = page.locator("#targets")
    expect(targets).to_contain_text("Who can watch")
    expect(targets).to_contain_text("Everyone")
    expect(targets).to_contain_text("Instagram could not download the video.")
    expect(targets).to_contain_text("processing can take a few minutes")
    expect(targets).to_contain_text("Nothing sent to Instagram yet.")  # its calls' timeline
    expect(targets.get_by_role("button", name="Retry now")).to_have_count(1)  # Instagram failed
    expect(page.locator("#post-time")).to_contain_text("Europe/London time (UTC+0")
    assert_accessible(page)
    assert_fits(page, f"post {width}")
    shot(page, f"post-{width}")

    # One client's calendar, from the post page's breadcrumb.
    page.get_by_role("link", name="Calendar", exact=True).last.click()
    expect(page.get_by_role("heading", name="Northwind Coffee: calendar")).to_be_visible()
    expect(page.locator(".cal-post")).to_have_count(2)
    expect(page.get_by_label("Timezone")).to_have_value("client")
    assert_accessible(page)
    assert_fits(page, f"client calendar {width}")


def test_the_timezone_choice_works_without_javascript(browser, live_server, admin_user, posts):
    """With JavaScript off, the selector's Show button applies the zone (plain GET form)."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in_as(page, admin_user, live_server)
        page.goto("/calendar/")
        page.get_by_label("Timezone").select_option("Asia/Tokyo")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile(r"tz=Asia%2FTokyo"))
        expect(page.get_by_text("placed by their time in Asia/Tokyo")).to_be_visible()
        # The 09:00 UTC post is at 18:00 in Tokyo.
        expect(page.locator(".cal-post-time", has_text="18:00")).to_have_count(1)
    finally:
        context.close()
