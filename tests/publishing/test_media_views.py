"""The media pages, request by request: the library grid and its polling cards, the asset page,
its poster and the access-checked preview stream; media never crosses clients, and stored files
are reachable only through these views (DESIGN §1, §10, §11)."""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.test import Client as HttpClient
from django.urls import Resolver404, resolve, reverse

from apps.publishing.models import MediaAsset
from tests.factories import ClientFactory, MediaAssetFactory, MembershipFactory
from tests.publishing.conftest import signed_in
from tests.publishing.media_helpers import TINY_JPEG, probe_result

pytestmark = pytest.mark.django_db

VIDEO = bytes(range(256)) * 64  # 16 KiB


def text(response) -> str:
    return html.unescape(response.content.decode())


def stored_asset(client, content: bytes = VIDEO, poster: bytes | None = None, **fields):
    asset = MediaAssetFactory(
        client=client,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        file="",
        **fields,
    )
    asset.file.save("clip.mp4", ContentFile(content), save=False)
    if poster:
        asset.poster.save("poster.jpg", ContentFile(poster), save=False)
    asset.save()
    return asset


def library_url(client) -> str:
    return reverse("publishing:media_library", args=[client.slug])


# --- Library ------------------------------------------------------------------------------------


def test_an_empty_library_says_so_and_offers_the_upload(client_obj, staff_member):
    page = text(signed_in(staff_member).get(library_url(client_obj)))
    assert "No videos yet" in page
    assert 'data-upload-url="' + reverse("publishing:media_upload", args=[client_obj.slug]) in page
    assert 'data-max-bytes="300000000"' in page
    assert 'name="file"' in page and 'name="media"' in page
    assert "at most 300 MB" in page


def test_the_upload_widget_fits_into_another_form(client_obj, staff_member, rf):
    """The composer includes the widget inside its own form: no nested <form>, the hidden input
    under the name it asks for, holding the asset already chosen."""
    from django.template import Context, Template

    asset = stored_asset(client_obj)
    request = rf.get("/")
    request.user = staff_member
    rendered = Template(
        '<form id="composer">{% include "publishing/_upload.html" with client=client '
        'asset=asset input_name="video" label="Video" %}</form>'
    ).render(Context({"client": client_obj, "asset": asset, "request": request}))

    assert rendered.count("<form") == 1
    assert f'<input type="hidden" name="video" value="{asset.pk}" data-upload-value>' in rendered
    assert f'<label for="upload-file-{client_obj.slug}">Video</label>' in rendered
    assert 'src="/static/js/upload.js"' in rendered


def test_the_library_shows_each_asset_with_poster_length_size_and_state(client_obj, staff_member):
    ready = stored_asset(
        client_obj,
        poster=TINY_JPEG,
        original_name="Spring menu.mp4",
        probe=probe_result(duration_s=75.2, width=1080, height=1920).to_dict(),
    )
    checking = stored_asset(
        client_obj, b"pending" * 10, original_name="Raw cut.mov", probe_state="pending", probe={}
    )
    broken = stored_asset(
        client_obj,
        b"broken" * 10,
        original_name="notes.txt",
        probe_state="unreadable",
        probe={},
        probe_error="There is no video stream in this file.",
    )
    response = signed_in(staff_member).get(library_url(client_obj))
    page = text(response)

    card = re.search(rf'<li class="media-card" id="asset-{ready.pk}".*?</li>', page, re.S)[0]
    assert "Spring menu.mp4" in card and "1:15" in card and "1080×1920" in card
    assert "16 kB" in card and "Readable" in card
    assert reverse("publishing:media_poster", args=[ready.pk]) in card
    assert "hx-trigger" not in card  # done: no polling

    pending = re.search(rf'<li class="media-card" id="asset-{checking.pk}"[^>]*>', page)[0]
    assert 'hx-trigger="every 3s"' in pending
    assert reverse("publishing:media_detail", args=[checking.pk]) + "?part=card" in pending
    assert "Being checked" in page

    assert "notes.txt" in page and "There is no video stream in this file." in page
    assert broken.pk != ready.pk


def test_the_pending_card_stops_polling_once_the_probe_is_done(client_obj, staff_member):
    asset = stored_asset(client_obj, probe_state="pending", probe={})
    http = signed_in(staff_member)
    card_url = reverse("publishing:media_detail", args=[asset.pk]) + "?part=card"

    polling = text(http.get(card_url, headers={"HX-Request": "true"}))
    assert polling.lstrip().startswith(f'<li class="media-card" id="asset-{asset.pk}"')
    assert 'hx-trigger="every 3s"' in polling

    MediaAsset.objects.filter(pk=asset.pk).update(probe_state="ok", probe=probe_result().to_dict())
    done = text(http.get(card_url, headers={"HX-Request": "true"}))
    assert "Readable" in done and "hx-trigger" not in done
    assert "<html" not in done


def test_the_grid_part_reloads_when_an_upload_finishes(client_obj, staff_member):
    stored_asset(client_obj, original_name="fresh.mp4")
    part = text(signed_in(staff_member).get(library_url(client_obj) + "?part=grid"))
    assert part.lstrip().startswith('<section class="card" id="media-grid"')
    assert 'hx-trigger="media:uploaded from:body"' in part
    assert "fresh.mp4" in part and "<html" not in part


def test_the_library_shows_only_this_clients_media(client_obj, staff_member):
    stored_asset(client_obj, original_name="ours.mp4")
    stored_asset(ClientFactory(name="Kumo Ramen"), b"x" * 100, original_name="theirs.mp4")
    page = text(signed_in(staff_member).get(library_url(client_obj)))
    assert "ours.mp4" in page and "theirs.mp4" not in page


def test_the_library_pages_through_many_videos(client_obj, staff_member):
    for n in range(30):
        MediaAssetFactory(client=client_obj, original_name=f"video-{n:02d}.mp4")
    http = signed_in(staff_member)
    first = text(http.get(library_url(client_obj)))
    assert first.count('class="media-card"') == 24 and "Page 1 of 2" in first
    assert "video-29.mp4" in first  # newest first
    second = text(http.get(library_url(client_obj) + "?page=2"))
    assert second.count('class="media-card"') == 6


def test_an_archived_clients_library_has_no_upload(client_obj, staff_member):
    client_obj.status = "archived"
    client_obj.save()
    page = text(signed_in(staff_member).get(library_url(client_obj)))
    assert "data-upload-url" not in page and "archived" in page


def test_the_client_page_links_to_the_library(client_obj, staff_member):
    page = text(signed_in(staff_member).get(reverse("clients:detail", args=[client_obj.slug])))
    assert f'href="{library_url(client_obj)}"' in page


# --- The asset page -----------------------------------------------------------------------------


def test_the_asset_page_previews_the_video_and_shows_what_the_probe_found(client_obj, staff_member):
    asset = stored_asset(
        client_obj,
        poster=TINY_JPEG,
        original_name="Spring menu.mp4",
        probe=probe_result(
            duration_s=75.2, width=1920, height=1080, rotation=90, fps_avg=29.97
        ).to_dict(),
    )
    page = text(signed_in(staff_member).get(reverse("publishing:media_detail", args=[asset.pk])))

    assert f'src="{reverse("publishing:media_preview", args=[asset.pk])}"' in page
    assert f'poster="{reverse("publishing:media_poster", args=[asset.pk])}"' in page
    assert "1:15" in page and "1080×1920" in page and "rotated 90°" in page
    assert "29.97 fps" in page and "H264 High · yuv420p" in page
    assert "AAC · 44,100 Hz · stereo" in page and "fast start" in page
    assert "4000 kbit/s" in page
    assert asset.sha256 in page
    assert 'id="probe"' in page and "hx-trigger" not in page


def test_a_pending_asset_page_polls_its_probe_card(client_obj, staff_member):
    asset = stored_asset(client_obj, probe_state="pending", probe={})
    page = text(signed_in(staff_member).get(reverse("publishing:media_detail", args=[asset.pk])))
    assert re.search(r'id="probe"[^>]*hx-trigger="every 3s"[^>]*hx-select="#probe"', page)
    assert "Reading the file" in page


def test_an_unreadable_asset_says_why_and_offers_no_player(client_obj, staff_member):
    asset = stored_asset(
        client_obj, probe_state="unreadable", probe={}, probe_error="The file is not a video."
    )
    page = text(signed_in(staff_member).get(reverse("publishing:media_detail", args=[asset.pk])))
    assert "This file can't be used: The file is not a video." in page
    assert "<video" not in page


def test_the_poster_is_served_as_jpeg(client_obj, staff_member):
    asset = stored_asset(client_obj, poster=TINY_JPEG)
    response = signed_in(staff_member).get(reverse("publishing:media_poster", args=[asset.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == TINY_JPEG


def test_an_asset_without_a_poster_yet_has_none(client_obj, staff_member):
    asset = stored_asset(client_obj, probe_state="pending", probe={})
    response = signed_in(staff_member).get(reverse("publishing:media_poster", args=[asset.pk]))
    assert response.status_code == 404


def test_the_preview_streams_and_seeks(client_obj, staff_member):
    asset = stored_asset(client_obj)
    http = signed_in(staff_member)
    url = reverse("publishing:media_preview", args=[asset.pk])

    whole = http.get(url)
    assert whole.status_code == 200 and whole.streaming
    assert b"".join(whole.streaming_content) == VIDEO
    assert whole["Content-Type"] == "video/mp4" and whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Length"] == str(len(VIDEO))

    seek = http.get(url, headers={"Range": "bytes=1000-1999"})
    assert seek.status_code == 206 and b"".join(seek.streaming_content) == VIDEO[1000:2000]
    assert seek["Content-Range"] == f"bytes 1000-1999/{len(VIDEO)}"

    assert http.head(url).status_code == 200
    assert http.get(url, headers={"Range": "bytes=99999-"}).status_code == 416


# --- Access: every role, and never across clients ------------------------------------------------

ASSET_VIEWS = ("media_detail", "media_poster", "media_preview")


@pytest.mark.parametrize("view", ASSET_VIEWS)
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
def test_each_role_reaches_an_asset_only_through_its_client(
    request, client_obj, view, role, status
):
    asset = stored_asset(client_obj, poster=TINY_JPEG)
    response = signed_in(request.getfixturevalue(role)).get(
        reverse(f"publishing:{view}", args=[asset.pk])
    )
    assert response.status_code == status


@pytest.mark.parametrize("view", ASSET_VIEWS)
def test_signed_out_people_are_sent_to_sign_in(client_obj, view):
    asset = stored_asset(client_obj, poster=TINY_JPEG)
    response = HttpClient().get(reverse(f"publishing:{view}", args=[asset.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_staff_on_one_client_never_see_anothers_media(client_obj, staff_member):
    other = ClientFactory(name="Kumo Ramen")  # staff_member is on client_obj's team only
    MembershipFactory(client=other)
    theirs = stored_asset(other, b"theirs" * 100, poster=TINY_JPEG)
    ours = stored_asset(client_obj, b"ours" * 100, poster=TINY_JPEG)

    http = signed_in(staff_member)
    for view in ASSET_VIEWS:
        assert http.get(reverse(f"publishing:{view}", args=[ours.pk])).status_code == 200
        assert http.get(reverse(f"publishing:{view}", args=[theirs.pk])).status_code == 404
    assert http.get(library_url(other)).status_code == 404
    assert http.post(reverse("publishing:media_upload", args=[other.slug])).status_code == 404


# --- Stored files are never served directly ------------------------------------------------------


def test_stored_media_is_not_reachable_by_its_storage_path(client_obj, staff_member, media_root):
    asset = stored_asset(client_obj, poster=TINY_JPEG)
    assert (media_root / asset.file.name).is_file()
    http = signed_in(staff_member)  # even signed in
    for name in (asset.file.name, asset.poster.name):
        assert http.get(django_settings.MEDIA_URL + name).status_code == 404
        assert http.get(django_settings.STATIC_URL + name).status_code == 404
        with pytest.raises(Resolver404):
            resolve(django_settings.MEDIA_URL + name)
    assert http.get(django_settings.MEDIA_URL).status_code == 404  # no listing either
    assert http.get(django_settings.MEDIA_URL + "media/").status_code == 404


def test_media_root_lies_outside_everything_the_static_handler_serves():
    from config import settings  # the configured values, not the tests' temporary MEDIA_ROOT

    media = Path(settings.MEDIA_ROOT).resolve()
    served = [Path(settings.STATIC_ROOT), *map(Path, settings.STATICFILES_DIRS)]
    for root in served:
        root = root.resolve()
        assert not media.is_relative_to(root) and not root.is_relative_to(media)
