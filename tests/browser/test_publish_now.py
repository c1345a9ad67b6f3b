"""'Publish now' for both platforms in a real browser: the post page follows each account from
due to published, with its links, without reloading. The platforms are the sandbox on the live
server; the worker is this test, running the dispatcher and the tasks it hands out."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from apps.publishing.models import CrossPost, TargetState
from apps.publishing.pipeline.dispatch import dispatch_due
from tests.browser.conftest import assert_accessible, sign_in_as
from tests.connections.helpers import connect
from tests.connections.sandbox import oauth_flow, sandbox_on
from tests.delivery.pipeline import Worker, stored_video

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/switchboard-shots")
WAIT_MS = 30_000


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_publish_now_reaches_published_on_both_platforms_without_a_reload(
    page, live_server, settings, media_root, manager, client_obj
):
    from playwright.sync_api import expect

    box = sandbox_on(live_server, settings)
    box.configure(
        tiktok_processing_seconds=2, tiktok_moderation_seconds=1, instagram_processing_seconds=2
    )
    flow = oauth_flow(box)
    tiktok = connect(flow, manager, client_obj, "tiktok")
    instagram = connect(flow, manager, client_obj, "instagram")
    asset = stored_video(client_obj)

    with Worker.capturing() as worker:
        sign_in_as(page, manager, live_server)
        page.goto(f"/clients/{client_obj.slug}/")
        page.get_by_role("link", name="New post").click()
        page.get_by_label("Choose an uploaded video").select_option(str(asset.pk))
        page.get_by_label("Caption for every platform").fill("Opening night #switchboard")
        page.get_by_role("checkbox", name=f"@{tiktok.handle} on TikTok").check()
        page.get_by_role("checkbox", name=f"@{instagram.handle} on Instagram").check()
        page.get_by_label("Who can see this post").select_option(label="Everyone")
        expect(page.locator(".post-preview")).to_contain_text("Opening night", timeout=WAIT_MS)
        expect(page.get_by_test_id("findings").locator(".finding-error")).to_have_count(
            0, timeout=WAIT_MS
        )
        page.wait_for_timeout(600)  # live preflight's last request has answered
        page.get_by_role("button", name="Publish now").click()
        page.wait_for_url(re.compile(r"/posts/\d+/$"))
        post = CrossPost.objects.get()
        page.evaluate("() => { window.__sameDocument = true; }")

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            dispatch_due()
            worker.run_queued()
            post.refresh_from_db()
            if post.status == CrossPost.Status.PUBLISHED:
                break
            page.wait_for_timeout(400)
        assert post.status == CrossPost.Status.PUBLISHED, list(
            post.targets.values_list("platform", "state", "state_reason")
        )

    expect(page.locator("#post-status")).to_have_text("Published", timeout=WAIT_MS)
    for target in post.targets.all():
        assert target.state == TargetState.PUBLISHED and target.permalink
        link = page.locator(f'a[href="{target.permalink}"]')
        expect(link).to_have_text(f"See it on {target.get_platform_display()}", timeout=WAIT_MS)
    assert page.evaluate("() => window.__sameDocument") is True  # no reload happened
    assert len(box.ledger(platform="tiktok")) == 1 and len(box.ledger(platform="instagram")) == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "publish-now-published.png"), full_page=True)
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
