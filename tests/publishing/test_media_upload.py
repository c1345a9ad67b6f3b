"""Uploading a video (DESIGN §6 Upload, §10): streamed through our upload handler, hashed while
it arrives, stored once per client and content, refused when too large (before the transfer
when the size is declared, during it otherwise), and an interrupted upload leaves nothing."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.multipartparser import MultiPartParser
from django.test import Client as HttpClient
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.clients.models import Client
from apps.publishing.assets.services import PROBE_TASK
from apps.publishing.assets.uploads import VideoUploadHandler
from apps.publishing.models import MediaAsset
from tests.connections.helpers import captured_tasks
from tests.factories import ClientFactory, MembershipFactory
from tests.publishing.conftest import signed_in
from tests.publishing.media_helpers import MULTIPART_TYPE, GeneratedBody

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


def upload_url(client: Client) -> str:
    return reverse("publishing:media_upload", kwargs={"slug": client.slug})


def post_file(http: HttpClient, client: Client, content: bytes, name: str = "clip.mp4", **kw):
    upload = SimpleUploadedFile(name, content, content_type="video/mp4")
    return http.post(upload_url(client), {"file": upload}, headers=kw.pop("headers", JSON), **kw)


def post_body(http: HttpClient, client: Client, body: Any, length: int, headers=JSON):
    """POST a multipart body read from `body` as the server reads it, with this Content-Length."""
    return http.generic(
        "POST",
        upload_url(client),
        data=b"-",  # replaced below; a non-empty body makes the test client set the type
        content_type=MULTIPART_TYPE,
        headers=headers,
        **{"wsgi.input": body, "CONTENT_LENGTH": str(length)},
    )


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_it_stores_the_upload_with_the_sha256_of_its_bytes(
    client_obj, staff_member, media_root, upload_temp_dir, django_capture_on_commit_callbacks
):
    content = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 400
    with captured_tasks() as tasks, django_capture_on_commit_callbacks(execute=True):
        response = post_file(signed_in(staff_member), client_obj, content, name="Launch teaser.mp4")

    assert response.status_code == 201, response.content
    body = response.json()
    asset = MediaAsset.objects.get()
    assert body["id"] == asset.pk and body["duplicate"] is False
    assert body["state"] == "pending" and body["poster_url"] == ""
    assert "being checked" in body["message"]
    assert asset.client == client_obj and asset.uploaded_by == staff_member
    assert asset.original_name == "Launch teaser.mp4" and asset.size == len(content)
    assert asset.sha256 == hashlib.sha256(content).hexdigest()
    # Stored under its content address, not the uploader's file name.
    assert asset.file.name == f"media/{client_obj.pk}/{asset.sha256[:2]}/{asset.sha256}"
    assert stored_files(media_root) == [media_root / asset.file.name]
    assert (media_root / asset.file.name).read_bytes() == content
    assert list(upload_temp_dir.iterdir()) == []
    # The probe runs in the background, given only the id.
    assert tasks == [(PROBE_TASK, (asset.pk,))]
    event = AuditEvent.objects.get(action="media.uploaded")
    assert event.client_id == client_obj.pk and event.actor == staff_member
    assert event.data == {"name": "Launch teaser.mp4", "size": len(content), "sha256": asset.sha256}


def test_the_same_file_twice_is_one_asset_and_the_second_upload_says_so(
    client_obj, staff_member, manager, media_root, django_capture_on_commit_callbacks
):
    content = b"same video bytes" * 1000
    first = post_file(signed_in(staff_member), client_obj, content, name="a.mp4")
    with captured_tasks() as tasks, django_capture_on_commit_callbacks(execute=True):
        second = post_file(signed_in(manager), client_obj, content, name="renamed copy.mp4")

    assert first.status_code == 201
    assert second.status_code == 200
    body = second.json()
    assert body["duplicate"] is True and body["id"] == first.json()["id"]
    assert "already in Northwind Coffee's library as “a.mp4”" in body["message"]
    assert MediaAsset.objects.count() == 1
    assert len(stored_files(media_root)) == 1
    assert AuditEvent.objects.filter(action="media.uploaded").count() == 1
    assert tasks == []  # nothing new to probe


def test_the_same_file_for_another_client_is_that_clients_own_asset(
    client_obj, staff_member, media_root
):
    other = ClientFactory(name="Kumo Ramen")
    MembershipFactory(client=other, user=staff_member)
    content = b"shared bytes" * 500
    post_file(signed_in(staff_member), client_obj, content)
    response = post_file(signed_in(staff_member), other, content)

    assert response.status_code == 201
    assert MediaAsset.objects.filter(sha256=hashlib.sha256(content).hexdigest()).count() == 2
    assert {Path(f.parent.parent.name) for f in stored_files(media_root)} == {
        Path(str(client_obj.pk)),
        Path(str(other.pk)),
    }


class UnreadableInput(io.RawIOBase):
    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")

    readline = read


def test_a_declared_size_over_the_limit_is_refused_before_the_body_is_read(
    client_obj, staff_member, settings
):
    settings.MEDIA_MAX_UPLOAD_BYTES = 300_000_000
    response = post_body(signed_in(staff_member), client_obj, UnreadableInput(), 412_000_000)

    assert response.status_code == 413
    assert response.json()["error"] == (
        "This file is 411.9 MB. Videos can be at most 300 MB (Instagram's limit for Reels)."
    )
    assert not MediaAsset.objects.exists()


def test_a_body_that_grows_past_the_limit_is_stopped_while_streaming(
    client_obj, staff_member, settings, media_root, upload_temp_dir
):
    # Content-Length within the allowance for the multipart framing, the file itself too big.
    settings.MEDIA_MAX_UPLOAD_BYTES = 1_000_000
    body = GeneratedBody(1_040_000)
    response = post_body(signed_in(staff_member), client_obj, body, body.length)

    assert response.status_code == 413
    assert "Videos can be at most 1 MB" in response.json()["error"]
    assert not MediaAsset.objects.exists()
    assert stored_files(media_root) == []
    assert list(upload_temp_dir.iterdir()) == []


def test_the_handler_stops_at_the_limit_whatever_the_header_says(upload_temp_dir):
    # Under ASGI (or any server that streams a chunked body) the Content-Length can be absent or
    # wrong: the handler counts what actually arrives and stops reading at the limit.
    body = GeneratedBody(5_000_000)
    handler = VideoUploadHandler(max_bytes=1_000_000)
    meta = {"CONTENT_TYPE": MULTIPART_TYPE, "CONTENT_LENGTH": "2000"}  # a lie
    MultiPartParser(meta, body, [handler]).parse()

    assert handler.too_large and handler.received_video() is None
    assert body.position < 1_000_000 + 2 * handler.chunk_size  # the rest was never read
    assert list(upload_temp_dir.iterdir()) == []


def test_a_body_that_ends_early_leaves_nothing_behind(
    client_obj, staff_member, media_root, upload_temp_dir, django_capture_on_commit_callbacks
):
    # The browser went away (or the user pressed Cancel) halfway through the file.
    body = GeneratedBody(2_000_000, cut_at=1_000_000)
    with captured_tasks() as tasks, django_capture_on_commit_callbacks(execute=True):
        response = post_body(signed_in(staff_member), client_obj, body, body.length)

    assert response.status_code == 400
    assert response.json()["error"] == "The upload was interrupted; nothing was saved. Try again."
    assert not MediaAsset.objects.exists()
    assert not AuditEvent.objects.filter(action="media.uploaded").exists()
    assert stored_files(media_root) == []
    assert list(upload_temp_dir.iterdir()) == []
    assert tasks == []


def test_a_connection_reset_mid_stream_leaves_nothing_behind(
    client_obj, staff_member, media_root, upload_temp_dir
):
    body = GeneratedBody(2_000_000, fail_at=1_200_000)
    response = post_body(signed_in(staff_member), client_obj, body, body.length)

    assert response.status_code == 400
    assert not MediaAsset.objects.exists()
    assert stored_files(media_root) == []
    assert list(upload_temp_dir.iterdir()) == []


def test_a_failure_while_saving_the_row_removes_the_stored_file(
    client_obj, staff_member, media_root, upload_temp_dir, monkeypatch
):
    from apps.publishing.assets import services

    def broken_audit(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "audit_record", broken_audit)
    http = signed_in(staff_member)
    http.raise_request_exception = False
    response = post_file(http, client_obj, b"video" * 1000)

    assert response.status_code == 500
    assert not MediaAsset.objects.exists()
    assert stored_files(media_root) == []
    assert list(upload_temp_dir.iterdir()) == []


def test_a_generated_upload_hashes_to_hashlib_over_its_bytes(client_obj, staff_member):
    body = GeneratedBody(3_000_000)
    response = post_body(signed_in(staff_member), client_obj, body, body.length)

    assert response.status_code == 201
    expected = hashlib.sha256()
    for piece in body.file_bytes():
        expected.update(piece)
    asset = MediaAsset.objects.get()
    assert asset.sha256 == expected.hexdigest() and asset.size == 3_000_000


def test_a_post_without_a_file_is_refused(client_obj, staff_member):
    response = signed_in(staff_member).post(upload_url(client_obj), {}, headers=JSON)
    assert response.status_code == 400
    assert response.json() == {"error": "Choose a video file to upload."}


def test_an_empty_file_is_refused(client_obj, staff_member, media_root, upload_temp_dir):
    response = post_file(signed_in(staff_member), client_obj, b"", name="empty.mp4")
    assert response.status_code == 400
    assert response.json() == {"error": "“empty.mp4” is empty; choose the video again."}
    assert not MediaAsset.objects.exists()
    assert stored_files(media_root) == [] and list(upload_temp_dir.iterdir()) == []


def test_without_javascript_the_form_post_redirects_to_the_new_asset(client_obj, staff_member):
    http = signed_in(staff_member)
    response = post_file(http, client_obj, b"no-js" * 100, headers={})

    asset = MediaAsset.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("publishing:media_detail", args=[asset.pk])
    page = http.get(response["Location"])
    assert "“clip.mp4” was uploaded; it is being checked." in page.content.decode()


def test_without_javascript_a_refusal_returns_to_the_library_with_the_reason(
    client_obj, staff_member
):
    http = signed_in(staff_member)
    response = http.post(upload_url(client_obj), {})
    assert response.status_code == 302
    assert response["Location"] == reverse("publishing:media_library", args=[client_obj.slug])
    assert "Choose a video file to upload." in http.get(response["Location"]).content.decode()


def test_it_requires_the_csrf_token(client_obj, staff_member, media_root):
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(staff_member)
    refused = post_file(http, client_obj, b"forged" * 100)
    assert refused.status_code == 403
    assert not MediaAsset.objects.exists() and stored_files(media_root) == []

    http.get(reverse("publishing:media_library", args=[client_obj.slug]))  # sets the cookie
    token = http.cookies["csrftoken"].value
    accepted = post_file(http, client_obj, b"forged" * 100, headers={**JSON, "X-CSRFToken": token})
    assert accepted.status_code == 201


def test_an_archived_client_takes_no_uploads(client_obj, staff_member):
    client_obj.status = Client.Status.ARCHIVED
    client_obj.save()
    response = post_file(signed_in(staff_member), client_obj, b"late" * 100)
    assert response.status_code == 400
    assert "archived" in response.json()["error"]
    assert not MediaAsset.objects.exists()


@pytest.mark.parametrize("role", ["outsider", "other_manager"])
def test_someone_off_the_team_cannot_upload_for_the_client(
    request, client_obj, role, media_root, upload_temp_dir
):
    response = post_file(signed_in(request.getfixturevalue(role)), client_obj, b"x" * 5000)
    assert response.status_code == 404
    assert not MediaAsset.objects.exists()
    assert stored_files(media_root) == [] and list(upload_temp_dir.iterdir()) == []


def test_two_identical_uploads_racing_end_as_one_asset(
    client_obj, staff_member, media_root, monkeypatch
):
    """The second upload passed the duplicate check before the first saved its row: it meets the
    unique constraint, removes only its own stored copy and returns the first one's asset."""
    from apps.publishing.assets import services

    content = b"raced" * 2000
    first = post_file(signed_in(staff_member), client_obj, content).json()
    real_filter = MediaAsset.objects.filter
    calls = {"n": 0}

    def blind_first_lookup(*args, **kwargs):
        calls["n"] += 1
        qs = real_filter(*args, **kwargs)
        return qs.none() if calls["n"] == 1 else qs

    monkeypatch.setattr(services.MediaAsset.objects, "filter", blind_first_lookup)
    second = post_file(signed_in(staff_member), client_obj, content)

    assert second.status_code == 200 and second.json()["id"] == first["id"]
    assert MediaAsset.objects.count() == 1
    assert stored_files(media_root) == [media_root / MediaAsset.objects.get().file.name]


@pytest.mark.django_db(transaction=True)
def test_a_browser_that_hangs_up_mid_upload_leaves_nothing_behind(
    live_server, client_obj, staff_member, media_root, upload_temp_dir
):
    """Over a real socket to a real server: half the file is sent, the temporary file exists,
    the connection closes; the server then removes it and stores nothing."""
    import socket
    import time
    from urllib.parse import urlsplit

    from django.conf import settings

    http = signed_in(staff_member)
    session = http.cookies[settings.SESSION_COOKIE_NAME].value
    csrf = "a" * 32
    body = GeneratedBody(4_000_000)
    head = (
        f"POST {upload_url(client_obj)} HTTP/1.1\r\n"
        f"Host: {urlsplit(live_server.url).netloc}\r\n"
        f"Content-Type: {MULTIPART_TYPE}\r\n"
        f"Content-Length: {body.length}\r\n"
        f"Cookie: {settings.SESSION_COOKIE_NAME}={session}; csrftoken={csrf}\r\n"
        f"X-CSRFToken: {csrf}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    address = urlsplit(live_server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(head + body.read(2_000_000))
        deadline = time.monotonic() + 10
        while not list(upload_temp_dir.iterdir()):  # the server is streaming it to disk
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.02)
    deadline = time.monotonic() + 10
    while list(upload_temp_dir.iterdir()):
        assert time.monotonic() < deadline, "the temporary file stayed"
        time.sleep(0.02)

    time.sleep(0.2)  # let the request finish (it answers a closed socket)
    assert not MediaAsset.objects.exists()
    assert stored_files(media_root) == []
