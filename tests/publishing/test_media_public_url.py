"""The signed, expiring URL a platform fetches a video through (PLATFORMS §2.7: Instagram's
`video_url`): no cookies, no redirects, Range and HEAD, and a 404 for any token that is bad,
tampered, expired or bent towards another client's media."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.core.files.base import ContentFile
from django.test import Client as HttpClient
from django.urls import reverse

from apps.publishing.assets import links
from apps.publishing.assets.links import signed_media_url
from apps.publishing.models import MediaAsset
from tests.factories import ClientFactory, MediaAssetFactory

pytestmark = pytest.mark.django_db

CONTENT = bytes(range(256)) * 40  # 10,240 bytes


def stored_asset(client, content: bytes = CONTENT, **fields) -> MediaAsset:
    import hashlib

    asset = MediaAssetFactory(
        client=client,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        file="",
        **fields,
    )
    asset.file.save("clip.mp4", ContentFile(content), save=True)
    return asset


def path_of(url: str) -> str:
    return urlsplit(url).path


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def asset(client_obj) -> MediaAsset:
    return stored_asset(client_obj)


@pytest.fixture
def platform() -> HttpClient:
    """Meta's fetcher: no session, no cookies."""
    return HttpClient()


def test_the_url_lives_under_public_base_url(asset, settings):
    settings.PUBLIC_BASE_URL = "https://switchboard.agency.example"
    url = signed_media_url(asset, ttl=600)
    assert url.startswith("https://switchboard.agency.example/m/")


def test_a_platform_fetches_the_whole_file_without_cookies(asset, platform):
    response = platform.get(path_of(signed_media_url(asset, ttl=600)))

    assert response.status_code == 200
    assert response.streaming  # streamed in chunks, never loaded whole
    assert body(response) == CONTENT
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(len(CONTENT))
    assert response["Accept-Ranges"] == "bytes"
    assert "Location" not in response
    assert not response.cookies  # nothing to remember, nothing asked


def test_a_range_request_gets_206_with_content_range(asset, platform):
    url = path_of(signed_media_url(asset, ttl=600))

    middle = platform.get(url, headers={"Range": "bytes=100-199"})
    assert middle.status_code == 206
    assert body(middle) == CONTENT[100:200]
    assert middle["Content-Range"] == f"bytes 100-199/{len(CONTENT)}"
    assert middle["Content-Length"] == "100"

    tail = platform.get(url, headers={"Range": "bytes=-16"})
    assert tail.status_code == 206 and body(tail) == CONTENT[-16:]

    rest = platform.get(url, headers={"Range": "bytes=10000-"})
    assert body(rest) == CONTENT[10000:]
    assert rest["Content-Range"] == f"bytes 10000-{len(CONTENT) - 1}/{len(CONTENT)}"


def test_an_unsatisfiable_range_gets_416(asset, platform):
    response = platform.get(
        path_of(signed_media_url(asset, ttl=600)), headers={"Range": f"bytes={len(CONTENT)}-"}
    )
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(CONTENT)}"


def test_head_answers_the_headers_without_the_body(asset, platform):
    url = path_of(signed_media_url(asset, ttl=600))

    whole = platform.head(url)
    assert whole.status_code == 200
    assert whole["Content-Length"] == str(len(CONTENT))
    assert whole["Content-Type"] == "video/mp4" and whole["Accept-Ranges"] == "bytes"
    assert whole.content == b""

    part = platform.head(url, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part["Content-Length"] == "10"


def test_other_methods_are_refused(asset, platform):
    assert platform.post(path_of(signed_media_url(asset, ttl=600))).status_code == 405


def test_the_url_expires(asset, platform):
    with time_machine.travel("2026-05-01 12:00:00Z", tick=False) as traveller:
        url = path_of(signed_media_url(asset, ttl=timedelta(hours=1)))
        traveller.shift(timedelta(minutes=59, seconds=59))
        assert platform.get(url).status_code == 200
        traveller.shift(timedelta(seconds=1))
        assert platform.get(url).status_code == 404
        assert platform.head(url).status_code == 404


def test_a_tampered_token_is_a_404(asset, platform):
    url = path_of(signed_media_url(asset, ttl=600))
    token = url.rsplit("/", 1)[1]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    assert platform.get(reverse("publishing:media_public", args=[flipped])).status_code == 404
    assert platform.get(reverse("publishing:media_public", args=["nonsense"])).status_code == 404
    # A payload edited to name another asset no longer matches its signature.
    signature = token.partition(":")[2]
    forged = signing.dumps({"a": asset.pk + 1}, salt="x").partition(":")[0] + ":" + signature
    assert platform.get(reverse("publishing:media_public", args=[forged])).status_code == 404


def test_a_token_signed_for_another_purpose_is_a_404(asset, platform):
    payload = {"a": asset.pk, "c": asset.client_id, "h": asset.sha256[:16], "e": 2**40}
    other_salt = signing.dumps(payload, salt="switchboard.connect-link")
    assert platform.get(reverse("publishing:media_public", args=[other_salt])).status_code == 404


def test_a_token_never_reaches_another_clients_media(client_obj, platform):
    ours = stored_asset(client_obj, b"ours" * 100)
    theirs = stored_asset(ClientFactory(name="Kumo Ramen"), b"theirs" * 100)

    # Names their asset id but our client (as if the id had been swapped in): refused.
    crossed = signing.dumps(
        {"a": theirs.pk, "c": ours.client_id, "h": theirs.sha256[:16], "e": int(time.time()) + 60},
        salt=links._SALT,
    )
    assert platform.get(reverse("publishing:media_public", args=[crossed])).status_code == 404
    # Each genuine URL serves its own client's bytes only.
    assert body(platform.get(path_of(signed_media_url(ours, ttl=60)))) == b"ours" * 100
    assert body(platform.get(path_of(signed_media_url(theirs, ttl=60)))) == b"theirs" * 100


def test_a_token_for_replaced_content_is_a_404(asset, platform):
    url = path_of(signed_media_url(asset, ttl=600))
    MediaAsset.objects.filter(pk=asset.pk).update(sha256="f" * 64)
    assert platform.get(url).status_code == 404


def test_a_deleted_asset_or_missing_file_is_a_404(asset, platform):
    url = path_of(signed_media_url(asset, ttl=600))
    asset.file.storage.delete(asset.file.name)
    assert platform.get(url).status_code == 404
    asset.delete()
    assert platform.get(url).status_code == 404


def test_the_type_comes_from_the_probe_not_the_uploader(client_obj, platform):
    html = stored_asset(
        client_obj, b"<script>alert(1)</script>", content_type="text/html", probe={}
    )
    response = platform.get(path_of(signed_media_url(html, ttl=60)))
    assert response["Content-Type"] == "application/octet-stream"
    mov = stored_asset(client_obj, b"mov" * 10, probe={"container": "mov"})
    assert platform.get(path_of(signed_media_url(mov, ttl=60)))["Content-Type"] == (
        "video/quicktime"
    )


def test_a_lifetime_must_be_positive(asset):
    with pytest.raises(ValueError):
        signed_media_url(asset, ttl=0)


def test_the_default_lifetime_comes_from_the_setting(asset, settings):
    settings.MEDIA_PUBLIC_URL_TTL = 120
    with time_machine.travel("2026-05-01 12:00:00Z", tick=False) as traveller:
        token = signed_media_url(asset).rsplit("/", 1)[1]
        traveller.shift(timedelta(seconds=119))
        assert links.asset_for_token(token) == asset
        traveller.shift(timedelta(seconds=1))
        assert links.asset_for_token(token) is None
