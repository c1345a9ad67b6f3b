"""A post page left open while its accounts go out: the accounts section follows each move made
from here through the one writer (target_transition) — dispatched, publishing with the upload's
progress, processing, published with its link — and the timeline of platform calls grows, all
without a reload; then the polling stops. An unconfirmed account is answered from the page (the
typed link survives the section's refreshes). A hidden tab asks nothing until it is shown again.
axe-core checks the page at 1280 and 390 px.

Intervals are shortened through the settings (POST_POLL_INTERVAL 0.2 s, at most 0.8 s).
Screenshots go to /tmp/switchboard-shots/ (never into the repository).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from apps.publishing.lifecycle import target_transition
from apps.publishing.models import PublishTarget
from tests.browser.conftest import assert_accessible, sign_in_as
from tests.factories import PublishAttemptFactory
from tests.publishing.post_builders import post, target

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/switchboard-shots")
WAIT_MS = 30_000  # a busy machine answers slowly; a broken page never does


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(autouse=True)
def fast_polls(settings):
    settings.POST_POLL_INTERVAL = 0.2
    settings.POST_POLL_MAX_INTERVAL = 0.8
    settings.PLATFORM_BASE_URLS = {
        **settings.PLATFORM_BASE_URLS,
        "tiktok_auth": "https://www.tiktok.com",
        "instagram_auth": "https://www.instagram.com",
    }


def move(t: PublishTarget, to: str, **fields: Any) -> PublishTarget:
    t.refresh_from_db()
    return target_transition(target=t, to=to, **fields)


def account_item(page: Any, t: PublishTarget) -> Any:
    return page.locator(f"#target-{t.pk}")


def wait_for_state(page: Any, t: PublishTarget, state: str) -> None:
    page.locator(f'#target-{t.pk}[data-state="{state}"]').wait_for(timeout=WAIT_MS)


def test_the_page_follows_an_account_from_due_to_published(
    page, live_server, staff_member, client_obj
):
    crosspost = post(client_obj, timezone.now(), targets={"tiktok": "scheduled"})
    tiktok = target(crosspost, "tiktok")
    sign_in_as(page, staff_member, live_server)
    page.goto(f"/posts/{crosspost.pk}/")
    page.evaluate("() => { window.__sameDocument = true; }")
    section = page.locator("#targets")
    assert section.get_attribute("hx-trigger") == "poll"
    assert page.get_by_text("Nothing sent to TikTok yet.").is_visible()
    cancel = page.get_by_role("button", name="Cancel post")
    assert cancel.is_visible()

    move(tiktok, "dispatched", dispatched_at=timezone.now())
    wait_for_state(page, tiktok, "dispatched")

    start = timezone.now()
    PublishAttemptFactory(target=tiktok, step="creator_info", started_at=start, duration_ms=120)
    PublishAttemptFactory(target=tiktok, step="init", started_at=start, duration_ms=640)
    move(
        tiktok,
        "publishing",
        checkpoint={
            "publish_id": "v_pub_file~v2-1.7",
            "uploaded_bytes": 5_000_000,
            "total_bytes": 20_000_000,
        },
    )
    progress = page.get_by_text("Sending the video to TikTok: 5.0 MB of 20.0 MB (25%)")
    progress.wait_for(timeout=WAIT_MS)
    assert page.locator(f"#upload-{tiktok.pk}").get_attribute("value") == "5000000"
    assert page.locator("#post-status").inner_text() == "Publishing"  # the header follows too
    assert cancel.count() == 0  # publishing has started: nothing to cancel any more
    shot(page, "post-live-uploading-1280")
    assert_accessible(page)

    PublishTarget.objects.filter(pk=tiktok.pk).update(
        checkpoint={
            "publish_id": "v_pub_file~v2-1.7",
            "uploaded_bytes": 15_000_000,
            "total_bytes": 20_000_000,
        }
    )
    page.get_by_text("15.0 MB of 20.0 MB (75%)").wait_for(timeout=WAIT_MS)

    PublishAttemptFactory.create_batch(
        2, target=tiktok, step="upload_chunk", started_at=timezone.now(), duration_ms=4000
    )
    move(tiktok, "processing")
    wait_for_state(page, tiktok, "processing")
    item = account_item(page, tiktok)
    assert "processing can take a few minutes before it appears on the profile" in (
        item.inner_text()
    )
    assert item.locator("progress").count() == 0

    PublishAttemptFactory(target=tiktok, step="status", started_at=timezone.now(), duration_ms=90)
    link = "https://www.tiktok.com/@northwind/video/7234567890123456789"
    move(tiktok, "published", permalink=link, published_at=timezone.now())
    wait_for_state(page, tiktok, "published")

    item = account_item(page, tiktok)
    assert item.get_by_role("link", name="See it on TikTok").get_attribute("href") == link
    steps = item.locator(".attempt .attempt-head").all_inner_texts()
    assert [" ".join(s.split()) for s in steps] == [
        "Asked TikTok what the account may post Succeeded",
        "Started the upload with TikTok Succeeded",
        "Sent the video to TikTok (2 times) Succeeded",
        "Asked TikTok how processing is going Succeeded",
    ]
    assert page.locator("#post-status").inner_text() == "Published"
    # All done: the last answer carries no poll, and nothing was reloaded on the way.
    assert page.locator("#targets").get_attribute("hx-trigger") is None
    assert "Updates by itself" not in page.locator("#targets").inner_text()
    assert page.evaluate("() => window.__sameDocument") is True
    shot(page, "post-live-published-1280")
    assert_accessible(page)

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), "the post page scrolls sideways on a phone"
    shot(page, "post-live-published-390")
    assert_accessible(page)


@pytest.mark.parametrize("width", [1280, 390])
def test_an_unconfirmed_account_is_answered_on_the_page(
    new_context, live_server, manager, client_obj, width
):
    crosspost = post(
        client_obj, timezone.now(), targets={"tiktok": "unconfirmed", "instagram": "publishing"}
    )
    tiktok, instagram = target(crosspost, "tiktok"), target(crosspost, "instagram")
    PublishAttemptFactory(
        target=tiktok,
        step="init",
        outcome="unknown",
        category="transient",
        message="The connection closed before TikTok answered.",
        duration_ms=30_000,
    )
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in_as(page, manager, live_server)
    page.goto(f"/posts/{crosspost.pk}/")

    box = page.locator(f"#decide-{tiktok.pk}")
    assert box.get_by_role("link", name="@northwind-coffee.tiktok's profile on TikTok").is_visible()
    link = "https://www.tiktok.com/@northwind.coffee/video/7234567890123456789"
    box.get_by_label("Link to the post (optional)").fill(link)
    box.get_by_label("I have looked at the profile").check()

    # Instagram moves meanwhile: the section is refreshed, what was typed stays.
    move(instagram, "processing")
    wait_for_state(page, instagram, "processing")
    assert box.get_by_label("Link to the post (optional)").input_value() == link
    assert box.get_by_label("I have looked at the profile").is_checked()
    shot(page, f"post-live-unconfirmed-{width}")
    assert_accessible(page)

    box.get_by_role("button", name="It is there").click()
    page.get_by_text("Marked as published on @northwind-coffee.tiktok on TikTok.").wait_for()
    tiktok.refresh_from_db()
    assert (tiktok.state, tiktok.permalink) == ("published", link)
    assert account_item(page, tiktok).get_by_role("link", name="See it on TikTok").is_visible()
    assert_accessible(page)


def test_publishing_again_asks_first_and_a_failure_is_retried(
    page, live_server, staff_member, client_obj
):
    crosspost = post(
        client_obj, timezone.now(), targets={"tiktok": "unconfirmed", "instagram": "failed"}
    )
    tiktok, instagram = target(crosspost, "tiktok"), target(crosspost, "instagram")
    sign_in_as(page, staff_member, live_server)
    page.goto(f"/posts/{crosspost.pk}/")
    questions: list[str] = []

    def answer(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.dismiss() if len(questions) == 1 else dialog.accept()

    page.on("dialog", answer)
    box = page.locator(f"#decide-{tiktok.pk}")
    box.get_by_label("I have looked at the profile").check()
    again = box.get_by_role("button", name="It is not there, publish again")
    again.click()  # dismissed: nothing happens
    page.wait_for_timeout(300)
    tiktok.refresh_from_db()
    assert tiktok.state == "unconfirmed"
    again.click()
    page.get_by_text("Publishing to @northwind-coffee.tiktok on TikTok again now.").wait_for()
    assert questions[0].startswith("Publish this again to @northwind-coffee.tiktok on TikTok?")
    tiktok.refresh_from_db()
    assert tiktok.state == "scheduled"

    account_item(page, instagram).get_by_role("button", name="Retry now").click()
    page.get_by_text("Publishing to @northwind-coffee.instagram on Instagram again now.").wait_for()
    assert questions[-1] == "Publish this to @northwind-coffee.instagram on Instagram again now?"
    instagram.refresh_from_db()
    assert instagram.state == "scheduled"
    # Both are due now: the page follows them again.
    assert page.locator("#targets").get_attribute("hx-trigger") == "poll"
    assert_accessible(page)


SET_VISIBILITY = """(hidden) => {
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  Object.defineProperty(document, "visibilityState", {
    configurable: true, get: () => (hidden ? "hidden" : "visible"),
  });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_a_hidden_tab_stops_asking_until_it_is_shown_again(
    page, live_server, staff_member, client_obj
):
    crosspost = post(client_obj, timezone.now(), targets={"tiktok": "dispatched"})
    tiktok = target(crosspost, "tiktok")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/targets/" in r.url else None)
    sign_in_as(page, staff_member, live_server)
    page.goto(f"/posts/{crosspost.pk}/")
    for _ in range(100):  # it asks while visible
        if asked:
            break
        page.wait_for_timeout(50)
    assert asked

    page.evaluate(SET_VISIBILITY, True)
    page.wait_for_timeout(400)  # an answer already on its way may still come
    while_hidden = len(asked)
    move(tiktok, "publishing")  # news the hidden tab does not ask for
    page.wait_for_timeout(2000)  # more than twice the longest wait
    assert len(asked) == while_hidden
    assert page.locator(f'#target-{tiktok.pk}[data-state="dispatched"]').count() == 1

    page.evaluate(SET_VISIBILITY, False)  # shown again: asks at once and catches up
    wait_for_state(page, tiktok, "publishing")
    assert len(asked) > while_hidden
