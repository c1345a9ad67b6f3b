"""The post page: preview, captions, each account's state, options and findings, the actions
while the post can still change, the processing note and permalink, time in the client's zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from apps.publishing.models import MediaAsset
from tests.factories import ClientFactory
from tests.publishing.post_builders import post, signed_in, target

pytestmark = pytest.mark.django_db


def page(user, crosspost) -> str:
    response = signed_in(user).get(reverse("publishing:post", args=[crosspost.pk]))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


def one_target(targets_html: str, target) -> str:
    """One account's item of the accounts section."""
    start = targets_html.index(f'id="target-{target.pk}"')
    end = targets_html.find('<li class="target"', start)
    return targets_html[start : end if end > 0 else None]


def test_it_previews_the_video_with_its_poster_frame(admin_user, client_obj):
    crosspost = post(client_obj, datetime(2025, 3, 4, 9, tzinfo=UTC))
    crosspost.media.poster = "posters/frame.jpg"
    crosspost.media.save()

    preview = section(page(admin_user, crosspost), "preview")

    media = crosspost.media_id
    assert f'src="{reverse("publishing:media_preview", args=[media])}"' in preview
    assert f'poster="{reverse("publishing:media_poster", args=[media])}"' in preview
    assert "<video controls" in preview


def test_it_says_why_there_is_no_preview(admin_user, client_obj):
    crosspost = post(client_obj, None, targets={}, draft=True)
    MediaAsset.objects.filter(pk=crosspost.media_id).update(
        probe_state=MediaAsset.ProbeState.UNREADABLE, probe_error="Not a video file"
    )
    assert "The video can't be read: Not a video file." in page(admin_user, crosspost)
    assert "<video" not in page(admin_user, crosspost)

    no_media = post(client_obj, None, targets={}, draft=True, media=None)
    html = page(admin_user, no_media)
    assert "No video yet." in html and "No time set yet" in html


def test_it_shows_the_shared_caption_and_each_platforms_own(admin_user, client_obj):
    crosspost = post(
        client_obj,
        datetime(2025, 3, 4, 9, tzinfo=UTC),
        targets={"tiktok": "scheduled", "instagram": "scheduled"},
        caption="Fresh bread daily",
        caption_overrides={"instagram": "Fresh bread daily 🥖 link in bio"},
    )

    preview = section(page(admin_user, crosspost), "preview")

    assert re.search(r"<h3>Caption <span[^>]*>· for TikTok</span></h3>", preview)
    assert "Fresh bread daily" in preview
    assert re.search(r"<h3>Instagram caption <span[^>]*>· for Instagram only</span></h3>", preview)
    assert "Fresh bread daily 🥖 link in bio" in preview


def test_each_account_shows_its_state_reason_and_options_in_words(admin_user, client_obj):
    crosspost = post(
        client_obj,
        datetime(2025, 3, 4, 9, tzinfo=UTC),
        targets={"tiktok": "failed", "instagram": "scheduled"},
    )
    tiktok = target(crosspost, "tiktok")
    tiktok.state_reason = "TikTok refused the video: it is too long for this account."
    tiktok.options = {
        "privacy_level": "FOLLOWER_OF_CREATOR",
        "allow_comment": True,
        "allow_stitch": True,
        "disclose_commercial": True,
        "brand_content": True,
    }
    tiktok.save()
    instagram = target(crosspost, "instagram")
    instagram.options = {"share_to_feed": False, "cover_offset_ms": 3500}
    instagram.save()

    targets = section(page(admin_user, crosspost), "targets")

    tiktok_html = targets[targets.index(f'id="target-{tiktok.pk}"') :]
    assert "TikTok @northwind-coffee.tiktok" in tiktok_html
    assert '<span class="badge badge-bad">Failed</span>' in tiktok_html
    assert "it is too long for this account" in tiktok_html
    assert "<dt>Who can watch</dt><dd>Followers</dd>" in tiktok_html
    assert "<dt>Viewers may use</dt><dd>Comments, Stitch</dd>" in tiktok_html
    assert "<dt>Disclosure</dt><dd>Paid partnership</dd>" in tiktok_html
    instagram_html = targets[targets.index(f'id="target-{instagram.pk}"') :]
    assert '<span class="badge badge-info">Scheduled</span>' in instagram_html
    assert "<dt>Also in the feed</dt><dd>No, Reels tab only</dd>" in instagram_html
    assert "<dt>Cover</dt><dd>Frame at 0:03.5</dd>" in instagram_html
    account_url = reverse("connections:account", args=[tiktok.linked_account_id])
    assert f'href="{account_url}"' in targets


def test_tiktok_options_left_unset_read_as_such(admin_user, client_obj):
    crosspost = post(client_obj, datetime(2025, 3, 4, 9, tzinfo=UTC))
    targets = section(page(admin_user, crosspost), "targets")
    assert "<dt>Who can watch</dt><dd>Not chosen</dd>" in targets
    assert "<dt>Viewers may use</dt><dd>No comments, Duet or Stitch</dd>" in targets
    assert "<dt>Disclosure</dt><dd>Not commercial content</dd>" in targets


def test_it_lists_the_latest_findings_with_their_fix(admin_user, client_obj):
    crosspost = post(client_obj, datetime(2025, 3, 4, 9, tzinfo=UTC))
    tiktok = target(crosspost, "tiktok")
    tiktok.findings = [
        {
            "platform": "tiktok",
            "rule": "duration.max",
            "severity": "error",
            "message": "The video is 4:10 long; this TikTok account takes up to 3:00.",
            "fix": "Trim to 3:00 or less.",
            "fix_url": "/connections/1/",
        },
        {
            "platform": "tiktok",
            "rule": "caption.hashtags",
            "severity": "warning",
            "message": "Many hashtags.",
            "fix": "",
            "fix_url": "javascript:alert(1)",
        },
    ]
    tiktok.save()

    targets = section(page(admin_user, crosspost), "targets")

    assert "Latest checks" in targets
    assert '<span class="badge badge-bad">Blocks</span> The video is 4:10 long' in targets
    assert "Trim to 3:00 or less." in targets
    assert '<a class="small" href="/connections/1/">Fix this</a>' in targets
    assert '<span class="badge badge-warn">Warning</span> Many hashtags.' in targets
    assert "javascript:" not in targets


def test_it_offers_cancel_and_reschedule_while_the_post_can_change(staff_member, client_obj):
    crosspost = post(
        client_obj,
        datetime(2025, 3, 4, 9, tzinfo=UTC),
        targets={"tiktok": "retry_wait", "instagram": "published"},
    )

    html = page(staff_member, crosspost)

    cancel = reverse("publishing:cancel", args=[crosspost.pk])
    assert re.search(rf'<form method="post" action="{cancel}"[^>]* data-confirm="Cancel this', html)
    assert f'href="{reverse("publishing:reschedule", args=[crosspost.pk])}"' in html


@pytest.mark.parametrize("states", [{"tiktok": "publishing"}, {"tiktok": "published"}, {}])
def test_it_offers_no_actions_once_nothing_can_change(admin_user, client_obj, states):
    crosspost = post(client_obj, datetime(2025, 3, 4, 9, tzinfo=UTC), targets=states)
    html = page(admin_user, crosspost)
    assert reverse("publishing:cancel", args=[crosspost.pk]) not in html
    assert reverse("publishing:reschedule", args=[crosspost.pk]) not in html


def test_an_archived_client_can_cancel_but_not_reschedule(admin_user, client_obj):
    crosspost = post(client_obj, datetime(2025, 3, 4, 9, tzinfo=UTC))
    client_obj.status = client_obj.Status.ARCHIVED
    client_obj.save()
    html = page(admin_user, crosspost)
    assert reverse("publishing:cancel", args=[crosspost.pk]) in html
    assert reverse("publishing:reschedule", args=[crosspost.pk]) not in html


def test_after_publishing_it_says_processing_takes_minutes_and_links_the_post(
    admin_user, client_obj
):
    crosspost = post(
        client_obj,
        datetime(2025, 3, 4, 9, tzinfo=UTC),
        targets={"tiktok": "processing", "instagram": "published"},
    )
    instagram = target(crosspost, "instagram")
    instagram.permalink = "https://www.instagram.com/reel/abc123/"
    instagram.save()

    targets = section(page(admin_user, crosspost), "targets")

    # PLATFORMS §1.11 rule 5 is TikTok's: said on its account, not on Instagram's.
    tiktok_html = one_target(targets, target(crosspost, "tiktok"))
    assert "processing can take a few minutes before it appears on the profile" in tiktok_html
    assert "processing can take a few minutes" not in one_target(targets, instagram)
    assert 'href="https://www.instagram.com/reel/abc123/"' in targets
    assert "See it on Instagram" in targets
    assert "See it on TikTok" not in targets


def test_a_scheduled_post_has_no_processing_note(admin_user, client_obj):
    crosspost = post(client_obj, datetime(2025, 3, 4, 9, tzinfo=UTC))
    assert "processing can take a few minutes" not in page(admin_user, crosspost)


def test_it_shows_the_time_in_the_clients_zone_with_its_utc_offset(admin_user):
    sydney = ClientFactory(name="Harbour Tacos", timezone="Australia/Sydney")
    summer = post(sydney, datetime(2025, 3, 3, 23, 30, tzinfo=UTC))
    winter = post(sydney, datetime(2025, 7, 3, 23, 30, tzinfo=UTC))

    assert re.search(
        r"Tuesday 4 March 2025, 10:30</time> Australia/Sydney time \(UTC\+11:00\)",
        page(admin_user, summer),
    )
    assert "Friday 4 July 2025, 09:30</time> Australia/Sydney time (UTC+10:00)" in page(
        admin_user, winter
    )


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin_user", 200),
        ("manager", 200),
        ("staff_member", 200),
        ("outsider", 404),
        ("other_manager", 404),
    ],
)
def test_the_post_page_is_for_those_who_see_its_client(request, client_obj, role, status):
    crosspost = post(client_obj, datetime(2025, 3, 4, 9, tzinfo=UTC))
    response = signed_in(request.getfixturevalue(role)).get(
        reverse("publishing:post", args=[crosspost.pk])
    )
    assert response.status_code == status


def test_another_clients_post_is_not_found_for_staff(staff_member, client_obj):
    other = post(ClientFactory(name="Elsewhere"), datetime(2025, 3, 4, 9, tzinfo=UTC))
    response = signed_in(staff_member).get(reverse("publishing:post", args=[other.pk]))
    assert response.status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in(client, client_obj):
    crosspost = post(client_obj, datetime(2025, 3, 4, 9, tzinfo=UTC))
    response = client.get(reverse("publishing:post", args=[crosspost.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
