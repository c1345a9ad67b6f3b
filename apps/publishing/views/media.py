"""Media pages and endpoints: the client's library, upload, an asset's page, its poster and
preview (staff, access-checked), and the signed public URL a platform fetches a video from."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    UnreadablePostError,
)
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect, render
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.clients import access
from apps.clients.models import Client
from apps.publishing.access import get_asset_for_view
from apps.publishing.assets import links, selectors, services, serving
from apps.publishing.assets.uploads import (
    FILE_FIELD,
    MULTIPART_OVERHEAD,
    VideoUploadHandler,
    max_upload_bytes,
    too_large_message,
)
from apps.publishing.models import MediaAsset
from apps.staff.types import AuthedRequest

LIBRARY_PAGE_SIZE = 24


@login_required
@require_GET
def library(request: AuthedRequest, slug: str) -> HttpResponse:
    client = access.get_client_for_view(request.user, slug)
    page = Paginator(selectors.assets_for_client(client=client), LIBRARY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"client": client, "page": page, "max_upload_bytes": max_upload_bytes()}
    if request.GET.get("part") == "grid":
        return render(request, "publishing/media_library.html#grid", context)
    return render(request, "publishing/media_library.html", context)


# --- Upload -------------------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _refuse(request: HttpRequest, client: Client, message: str, status: int) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": message}, status=status)
    messages.error(request, message)
    return redirect("publishing:media_library", slug=client.slug)


def asset_summary(asset: MediaAsset) -> dict[str, Any]:
    """What the upload widget hands to the page (templates/publishing/_upload.html)."""
    return {
        "id": asset.pk,
        "name": asset.original_name,
        "size": asset.size,
        "state": asset.probe_state,
        "state_label": asset.get_probe_state_display(),
        "poster_url": reverse("publishing:media_poster", args=[asset.pk]) if asset.poster else "",
        "detail_url": reverse("publishing:media_detail", args=[asset.pk]),
    }


@csrf_exempt  # checked in _receive_upload, once our upload handler is in place (uploads.py)
@login_required
@require_POST
def upload(request: AuthedRequest, slug: str) -> HttpResponse:
    client = access.get_client_for_view(request.user, slug)
    if client.is_archived:
        return _refuse(
            request, client, f"{client.name} is archived; unarchive it to add videos.", 400
        )
    limit = max_upload_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    # Refused before a byte of the body is read when the size is known to be too big.
    if declared > limit + MULTIPART_OVERHEAD:
        return _refuse(request, client, too_large_message(declared - MULTIPART_OVERHEAD), 413)
    handler = VideoUploadHandler(request, max_bytes=limit)
    request.upload_handlers = [handler]
    try:
        return _receive_upload(request, client, handler)
    finally:
        handler.discard()  # the temporary file, if storage didn't take it


@csrf_protect
def _receive_upload(
    request: AuthedRequest, client: Client, handler: VideoUploadHandler
) -> HttpResponse:
    try:
        has_file = FILE_FIELD in request.FILES  # the body streams through the handler here
    except (UnreadablePostError, MultiPartParserError):
        handler.interrupted = True
        has_file = False
    if handler.too_large:
        return _refuse(request, client, too_large_message(), 413)
    if handler.interrupted:
        return _refuse(
            request, client, "The upload was interrupted; nothing was saved. Try again.", 400
        )
    video = handler.received_video()
    if not has_file or video is None:
        return _refuse(request, client, "Choose a video file to upload.", 400)
    if video.size == 0:
        return _refuse(request, client, f"“{video.name}” is empty; choose the video again.", 400)

    stored = services.media_asset_store(client=client, video=video, actor=request.user)
    asset = stored.asset
    if stored.created:
        message = f"“{asset.original_name}” was uploaded; it is being checked."
    else:
        message = (
            f"This video is already in {client.name}'s library as “{asset.original_name}” "
            f"(uploaded {date_filter(asset.uploaded_at, 'j M Y')}); that one is used."
        )
    if _wants_json(request):
        return JsonResponse(
            {**asset_summary(asset), "duplicate": not stored.created, "message": message},
            status=201 if stored.created else 200,
        )
    (messages.success if stored.created else messages.info)(request, message)
    return redirect("publishing:media_detail", pk=asset.pk)


# --- One asset ----------------------------------------------------------------------------------


@login_required
@require_GET
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    asset = get_asset_for_view(request.user, pk)
    context = {"asset": asset, "client": asset.client, "probe": asset.probe_result()}
    part = request.GET.get("part")
    if part == "card":  # the library card polling while the asset is being checked
        return render(request, "publishing/media_library.html#asset_card", context)
    return render(request, "publishing/media_detail.html", context)


@login_required
@require_GET
def poster(request: AuthedRequest, pk: int) -> HttpResponseBase:
    return serving.poster_response(get_asset_for_view(request.user, pk))


@login_required
@require_http_methods(["GET", "HEAD"])
def preview(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """The video for the page's <video> element: access-checked, streamed, seekable (Range)."""
    asset = get_asset_for_view(request.user, pk)
    return serving.video_response(request, asset, cache_control="private, max-age=600")


# --- The platform's fetch -------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
def public_file(request: HttpRequest, token: str) -> HttpResponseBase:
    """The signed URL a platform fetches: no session, no redirect; 404 unless the token is
    valid, unexpired and names this asset of its client (assets/links.py)."""
    asset = links.asset_for_token(token)
    if asset is None:
        raise Http404("No such file.")
    return serving.video_response(request, asset, cache_control="private, no-store")
