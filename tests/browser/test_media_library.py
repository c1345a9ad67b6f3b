"""The media library in a real browser: upload a small generated video over a throttled
connection and watch the progress bar move, the asset appear, and its card turn ready once the
probe has run; a file over the limit is refused before anything is sent. axe checks each page.

Screenshots go to /tmp/switchboard-shots/ (never into the repository).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from apps.publishing.assets import probing
from apps.publishing.assets.services import media_asset_probe
from apps.publishing.models import MediaAsset
from tests.browser.conftest import assert_accessible, sign_in_as
from tests.publishing.media_helpers import TINY_JPEG, make_video, probe_result

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/switchboard-shots")
# Slow enough that a ~600 kB upload takes a few seconds, so the bar has in-between values to show.
UPLOAD_BYTES_PER_SECOND = 200 * 1024

# Records what the page shows while the upload runs: each distinct value of the progress bar
# and every media:uploaded event's detail.
WATCH_UPLOAD = """
() => {
  window.__progress = [];
  window.__uploaded = [];
  const bar = document.querySelector("[data-upload-bar]");
  const timer = setInterval(() => {
    const last = window.__progress[window.__progress.length - 1];
    if (!bar.parentElement.hidden && bar.value !== last) { window.__progress.push(bar.value); }
  }, 20);
  document.addEventListener("media:uploaded", (event) => {
    window.__uploaded.push(event.detail);
    setTimeout(() => clearInterval(timer), 200);
  });
}
"""


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_an_upload_shows_its_progress_and_the_video_appears_then_turns_ready(
    page, live_server, staff_member, client_obj, monkeypatch, settings
):
    from playwright.sync_api import expect

    # The asset page loads its poster and video ranges in parallel, and each signed-in request
    # records session activity (allauth). The live server's in-memory SQLite answers concurrent
    # writers with "database table is locked" at once rather than waiting as the file database
    # (busy timeout) or PostgreSQL do, which failed the preview now and then.
    settings.USERSESSIONS_TRACK_ACTIVITY = False

    video = make_video(seconds=2.0)
    assert 400_000 < len(video) < 3_000_000
    sign_in_as(page, staff_member, live_server)
    page.goto(f"/clients/{client_obj.slug}/media/")
    expect(page.get_by_role("heading", name="No videos yet")).to_be_visible()
    # With the script running the file choice alone uploads: the fallback button is hidden.
    expect(page.get_by_role("button", name="Upload")).to_be_hidden()

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
        files=[{"name": "Spring menu.mp4", "mimeType": "video/mp4", "buffer": video}]
    )
    expect(page.get_by_role("progressbar", name="Upload progress")).to_be_visible()
    expect(page.locator("[data-upload-status]")).to_contain_text("Uploading “Spring menu.mp4”")
    shot(page, "media-uploading")

    expect(page.locator("[data-upload-status]")).to_have_text(
        "“Spring menu.mp4” was uploaded; it is being checked.", timeout=30_000
    )
    progress = page.evaluate("() => window.__progress")
    assert any(0 < value < 100 for value in progress), progress
    assert progress == sorted(progress), progress
    assert page.evaluate("() => document.querySelector('[data-upload-bar]').value") == 100

    asset = MediaAsset.objects.get(client=client_obj)
    assert asset.size == len(video) and asset.original_name == "Spring menu.mp4"
    [detail] = page.evaluate("() => window.__uploaded")
    assert detail["id"] == asset.pk and detail["state"] == "pending"
    assert detail["duplicate"] is False and detail["poster_url"] == ""
    assert page.locator("input[type=hidden][name=media]").input_value() == str(asset.pk)

    # The grid reloaded by itself and shows the new video, still being checked.
    card = page.locator(f"#asset-{asset.pk}")
    expect(card).to_contain_text("Spring menu.mp4")
    expect(card).to_contain_text("Being checked")
    shot(page, "media-uploaded")

    # The worker's probe runs (here in the test, with the probe stood in for); the card's
    # polling brings the result without a reload.
    monkeypatch.setattr(
        probing,
        "probe_media",
        lambda path, *, timeout_s: (probe_result(duration_s=2.0, width=128, height=224), TINY_JPEG),
    )
    assert media_asset_probe(asset_id=asset.pk) == "ok"
    expect(card).to_contain_text("Readable", timeout=20_000)
    expect(card).to_contain_text("0:02")
    expect(card.locator("img")).to_have_attribute("src", f"/media/{asset.pk}/poster.jpg")
    assert card.get_attribute("hx-trigger") is None  # done: the polling stopped
    assert_accessible(page)
    shot(page, "media-ready")

    # The asset page plays the video from the access-checked preview stream.
    card.get_by_role("link", name="Spring menu.mp4").click()
    expect(page.get_by_role("heading", name="Spring menu.mp4")).to_be_visible()
    player = page.locator("video")
    expect(player).to_have_attribute("src", f"/media/{asset.pk}/preview")
    page.wait_for_function("() => document.querySelector('video').readyState >= 1", timeout=20_000)
    assert page.evaluate("() => document.querySelector('video').duration") == pytest.approx(
        2.0, abs=0.2
    )
    expect(page.get_by_test_id("probe-state")).to_have_text("Readable")
    shot(page, "media-detail")


def test_a_file_over_the_limit_is_refused_before_anything_is_sent(
    page, live_server, staff_member, client_obj, settings
):
    from playwright.sync_api import expect

    settings.MEDIA_MAX_UPLOAD_BYTES = 1_000_000
    sign_in_as(page, staff_member, live_server)
    page.goto(f"/clients/{client_obj.slug}/media/")
    posts: list[str] = []
    page.on(
        "request", lambda request: posts.append(request.url) if request.method == "POST" else None
    )

    page.get_by_label("Video file").set_input_files(
        files=[{"name": "long.mp4", "mimeType": "video/mp4", "buffer": b"\0" * 2_500_000}]
    )
    status = page.locator("[data-upload-status]")
    expect(status).to_have_text(
        "“long.mp4” is 2.5 MB. Videos can be at most 1 MB (Instagram's limit for Reels)."
    )
    expect(page.get_by_role("progressbar")).to_be_hidden()
    page.wait_for_timeout(300)
    assert posts == []
    assert not MediaAsset.objects.exists()
    assert re.search(r"at most 1 MB", page.locator(".upload .field-help").inner_text())
