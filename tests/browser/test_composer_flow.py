"""The composer in a real browser against the sandbox on the live server: connect the 60-second
TikTok creator (tt-short), upload a generated 90-second video from the composer and watch the
progress bar move, let the real probe read it, see it refused with its fix, choose a 45-second
one, complete the TikTok part the way TikTok's audit wants it (PLATFORMS §1.11), check it with axe
at 1280 and 390 px, schedule, find the post on the calendar and cancel it.

Screenshots go to /tmp/switchboard-shots/ (never into the repository).
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from apps.connections.models import LinkedAccount
from apps.publishing.assets.services import media_asset_probe
from apps.publishing.models import CrossPost, MediaAsset, TargetState
from tests.browser.conftest import assert_accessible
from tests.contract.helpers import Sandbox, base_urls
from tests.factories import (
    DEFAULT_PASSWORD,
    CrossPostFactory,
    LinkedAccountFactory,
    MediaAssetFactory,
    PublishTargetFactory,
)
from tests.publishing.media_files import Video, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/switchboard-shots")


@pytest.fixture
def sandbox(live_server: Any, transactional_db: None, settings: Any) -> Sandbox:
    settings.PUBLIC_BASE_URL = live_server.url
    settings.PLATFORM_BASE_URLS = base_urls(live_server.url)
    settings.HTTP_TIMEOUT = (5.0, 20.0)
    return Sandbox(live_server.url)


# Slow enough that the ~110 kB upload takes a few seconds, so the bar has in-between values.
UPLOAD_BYTES_PER_SECOND = 30 * 1024

WATCH_UPLOAD = """
() => {
  window.__progress = [];
  const bar = document.querySelector("[data-upload-bar]");
  const timer = setInterval(() => {
    const last = window.__progress[window.__progress.length - 1];
    if (!bar.parentElement.hidden && bar.value !== last) { window.__progress.push(bar.value); }
  }, 20);
  document.addEventListener("media:uploaded", () => setTimeout(() => clearInterval(timer), 200));
}
"""


def generated_video(tmp_path: Path, seconds: int) -> bytes:
    """A real 360x640 H.264 video of `seconds` (flat frames: small and quick to encode)."""
    frames = seconds * 24
    return write(tmp_path / f"{seconds}s.mp4", Video(frames=frames, fps=Fraction(24))).read_bytes()


def upload_in_composer(page: Any, name: str, content: bytes) -> MediaAsset:
    """Upload through the composer's widget over a throttled connection; returns the asset
    once the page has taken it as the post's video."""
    from playwright.sync_api import expect

    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 10,
            "downloadThroughput": -1,
            "uploadThroughput": UPLOAD_BYTES_PER_SECOND,
        },
    )
    page.evaluate(WATCH_UPLOAD)
    page.get_by_label("Video file").set_input_files(
        files=[{"name": name, "mimeType": "video/mp4", "buffer": content}]
    )
    expect(page.get_by_role("progressbar", name="Upload progress")).to_be_visible()
    expect(page.locator("[data-upload-status]")).to_contain_text("was uploaded", timeout=30_000)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    progress = page.evaluate("() => window.__progress")
    assert any(0 < value < 100 for value in progress), progress  # the bar moved
    asset = MediaAsset.objects.get(original_name=name)
    expect(page.get_by_label("Choose an uploaded video")).to_have_value(str(asset.pk))
    return asset


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, user: Any) -> None:
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page.get_by_role("heading", name=re.compile("Good to see you"))).to_be_visible()


def connect_short_creator(page: Any, client: Any) -> LinkedAccount:
    """Connect the sandbox's 60-second creator through the consent page, as staff would."""
    from playwright.sync_api import expect

    page.goto(f"/clients/{client.slug}/")
    page.get_by_role("button", name="Connect TikTok").click()
    page.wait_for_url(re.compile(r"/_emulator/tiktok/"))
    page.get_by_role("radio", name=re.compile(re.escape("@sbx.shorts"))).check()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(r"/connections/\d+/$"))
    expect(page.get_by_test_id("state-badge")).to_have_text("Active")
    return LinkedAccount.objects.get(client=client, platform="tiktok")


def settled(page: Any, text: str) -> None:
    """Wait until live preflight has answered the last change (its preview shows `text`), so
    no request of it is still running when the form is sent (the live server's in-memory
    SQLite refuses two writers at once)."""
    from playwright.sync_api import expect

    expect(page.locator(".post-preview")).to_contain_text(text, timeout=10_000)
    page.wait_for_timeout(600)  # past the trigger's 500 ms delay: no request still to come
    expect(page.locator(".post-preview")).to_contain_text(text)


def video(client: Any, name: str, seconds: float) -> MediaAsset:
    asset = MediaAssetFactory(client=client, original_name=name)
    asset.probe = {**asset.probe, "duration_s": seconds}
    asset.save(update_fields=["probe"])
    return asset


def test_compose_fix_a_too_long_video_schedule_it_find_it_and_cancel_it(
    page, sandbox, manager, client_obj, tmp_path
):
    from playwright.sync_api import expect

    assert django_settings.EMULATOR_ENABLED
    sign_in(page, manager)
    account = connect_short_creator(page, client_obj)
    short_cut = video(client_obj, "short-cut.mp4", 45.0)

    page.goto(f"/clients/{client_obj.slug}/")
    page.get_by_role("link", name="New post").click()
    expect(page.get_by_role("heading", name="New post")).to_be_visible()
    # Creator info first (§1.11 rule 1): who receives the post, from TikTok itself.
    section = page.locator(f'[data-account-section="{account.pk}"]')
    expect(section.locator("h2")).to_have_text("TikTok · Shorts Only")
    expect(section).to_be_hidden()  # options appear once the account is ticked

    long_cut = upload_in_composer(page, "long-cut.mp4", generated_video(tmp_path, 90))
    findings = page.get_by_test_id("findings")
    expect(findings).to_contain_text("Still checking the video", timeout=10_000)
    # The worker's probe task, run here: the real probe, in its own process.
    assert media_asset_probe(asset_id=long_cut.pk) == "ok"
    long_cut.refresh_from_db()
    assert round(long_cut.probe_result().duration_s) == 90

    page.get_by_label("Caption for every platform").fill("Morning pour-over in 90 seconds #coffee")
    page.get_by_role("checkbox", name="@sbx.shorts on TikTok").check()
    expect(section).to_be_visible()
    expect(section.locator("img.creator-avatar")).to_be_visible()

    # Nothing is chosen for people: until they pick who can see it, that is an error too.
    expect(findings.locator(".finding-error", has_text="Choose who can see")).to_have_count(
        1, timeout=10_000
    )
    page.get_by_label("Who can see this post").select_option(label="Everyone")
    tiktok_error = findings.locator(".finding-error")
    expect(tiktok_error).to_have_count(1, timeout=10_000)
    expect(tiktok_error).to_contain_text("The video is 1:30 long")
    expect(tiktok_error.locator(".finding-fix")).to_contain_text("Trim to 1:00 or less")
    expect(page.locator("#preflight-status")).to_contain_text("1 error")
    shot(page, "composer-a-too-long")

    # The server refuses it too, whatever the page shows.
    page.get_by_label("Who can see this post").select_option(label="Everyone")
    page.get_by_label("Date").fill("2031-05-01")
    page.get_by_label(re.compile(r"^Time in Europe/London")).fill("10:30")
    settled(page, "Publishes Thu 1 May 2031, 10:30 BST (UTC+01:00)")
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator(".errorlist.nonfield")).to_contain_text("Nothing was scheduled")
    assert not CrossPost.objects.exists()

    # Fix it: the 45-second cut.
    page.get_by_label("Choose an uploaded video").select_option(str(short_cut.pk))
    # The live check asks TikTok's creator info again: on a loaded machine that can take a while.
    expect(findings.locator(".finding-error")).to_have_count(0, timeout=25_000)
    expect(page.get_by_text("Video: short-cut.mp4")).to_be_visible()

    # The TikTok part as §1.11 wants it: nothing preselected, interactions off, a disclosure that
    # relabels the post and takes "Only me" away with branded content, the declaration last.
    privacy = page.get_by_label("Who can see this post")
    expect(privacy).to_have_value("PUBLIC_TO_EVERYONE")  # kept from the refused submission
    for name in ("Allow comments", "Allow duets", "Allow stitches"):
        expect(section.get_by_label(name)).not_to_be_checked()
    disclose = section.get_by_label("Disclose commercial content")
    expect(disclose).not_to_be_checked()
    expect(section.get_by_label("Branded content")).to_be_hidden()
    disclose.check()
    section.get_by_label("Branded content").check()
    expect(section.locator("[data-disclosure-label]")).to_have_text(
        "TikTok will label the post “Paid partnership”."
    )
    expect(privacy.locator('option[value="SELF_ONLY"]')).to_be_disabled()
    expect(section.get_by_text("“Only me” isn't available")).to_be_visible()
    declaration = page.locator("#tiktok-declaration")
    expect(declaration).to_have_text(
        "By posting, you agree to TikTok's Music Usage Confirmation and Branded Content Policy.",
        use_inner_text=True,
    )
    section.get_by_label("Branded content").uncheck()
    section.get_by_label("Your brand").check()
    expect(section.locator("[data-disclosure-label]")).to_have_text(
        "TikTok will label the post “Promotional content”."
    )
    expect(privacy.locator('option[value="SELF_ONLY"]')).to_be_enabled()
    expect(section.get_by_text("“Only me” isn't available")).to_be_hidden()
    expect(declaration).to_have_text(
        "By posting, you agree to TikTok's Music Usage Confirmation.", use_inner_text=True
    )
    expect(declaration.get_by_role("link", name="Music Usage Confirmation")).to_have_attribute(
        "href", re.compile(r"^https://www\.tiktok\.com/legal/")
    )
    # The preview before confirming (§1.11 rule 5).
    preview = page.locator(".post-preview")
    expect(preview).to_contain_text("Morning pour-over in 90 seconds #coffee")
    expect(preview).to_contain_text("labeled “Promotional content”")
    expect(preview).to_contain_text("Publishes Thu 1 May 2031, 10:30 BST (UTC+01:00)")
    shot(page, "composer-b-ready")

    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
    shot(page, "composer-c-phone")
    page.set_viewport_size({"width": 1280, "height": 860})

    settled(page, "labeled “Promotional content”")
    page.get_by_role("button", name="Schedule").click()
    post = CrossPost.objects.get()
    page.wait_for_url(re.compile(rf"/posts/{post.pk}/$"))
    target = post.targets.get()
    assert target.linked_account == account
    assert target.state == TargetState.SCHEDULED
    assert target.options["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert target.options["brand_organic"] is True
    assert target.options["brand_content"] is False
    assert post.media == short_cut
    assert target.due_at is not None and target.due_at.isoformat() == "2031-05-01T09:30:00+00:00"

    # Find it on the client's calendar (its own timezone), open it from there, cancel it.
    page.goto(f"/clients/{client_obj.slug}/calendar/?view=week&date=2031-05-01")
    entry = page.locator(".cal-post", has_text="Morning pour-over")
    expect(entry).to_contain_text("10:30")
    expect(entry).to_contain_text("Scheduled")
    entry.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/posts/{post.pk}/$"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel post").click()
    expect(page.get_by_text("Cancelled").first).to_be_visible()
    post.refresh_from_db()
    target.refresh_from_db()
    assert post.status == CrossPost.Status.CANCELLED and target.state == TargetState.CANCELLED
    page.goto(f"/clients/{client_obj.slug}/calendar/?view=week&date=2031-05-01")
    expect(page.locator(".cal-post", has_text="Morning pour-over")).to_contain_text("Cancelled")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_composers_other_pages_pass_axe_and_fit_the_screen(
    new_context, manager, client_obj, width
):
    """Editing a scheduled post (its accounts without a stored authorization, so TikTok can't be
    asked), a repeated local time being asked about, and the reschedule page."""
    from playwright.sync_api import expect

    client_obj.timezone = "Australia/Sydney"
    client_obj.save()
    tiktok = LinkedAccountFactory(client=client_obj, handle="nw.tiktok", display_name="Northwind")
    instagram = LinkedAccountFactory(client=client_obj, platform="instagram", handle="nw_ig")
    post = CrossPostFactory(client=client_obj)
    PublishTargetFactory(crosspost=post, linked_account=tiktok)
    PublishTargetFactory(crosspost=post, linked_account=instagram)
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, manager)

    def check(name: str) -> None:
        assert_accessible(page)
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        ), f"{name} scrolls sideways"

    page.goto(f"/clients/{client_obj.slug}/")
    expect(page.get_by_role("link", name="New post")).to_be_visible()
    check("client page")

    page.goto(f"/posts/{post.pk}/edit/")
    expect(page.get_by_role("heading", name="Edit scheduled post")).to_be_visible()
    expect(page.locator(f'[data-account-section="{tiktok.pk}"]')).to_contain_text(
        "TikTok didn't answer about @nw.tiktok on TikTok"
    )
    check("edit page")
    # 02:30 on 6 April 2031 happens twice in Sydney: the page asks which.
    page.get_by_label("Date").fill("2031-04-06")
    page.get_by_label(re.compile(r"^Time in Australia/Sydney")).fill("02:30")
    settled(page, "happens twice")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("radio", name=re.compile("The second time, AEST"))).to_be_visible()
    check("edit page asking which 02:30")
    shot(page, f"composer-d-which-time-{width}")

    page.goto(f"/posts/{post.pk}/reschedule/")
    expect(page.get_by_role("heading", name="Reschedule post")).to_be_visible()
    check("reschedule page")
