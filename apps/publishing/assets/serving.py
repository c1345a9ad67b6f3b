"""File responses for stored media: the video (with Range) and its poster, streamed from storage.

The Content-Type comes from what the probe found, or a short list of video types; never from
the uploader's say-so alone, so an uploaded HTML file is never served as HTML from our origin.
"""

from __future__ import annotations

from typing import IO

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase

from apps.common.ranges import ranged_file_response
from apps.publishing.models import MediaAsset

_TYPE_BY_CONTAINER = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
}
_VIDEO_TYPES = frozenset(_TYPE_BY_CONTAINER.values())
FALLBACK_TYPE = "application/octet-stream"


def content_type_for(asset: MediaAsset) -> str:
    container = asset.probe.get("container", "") if isinstance(asset.probe, dict) else ""
    if container in _TYPE_BY_CONTAINER:
        return _TYPE_BY_CONTAINER[container]
    declared = asset.content_type.split(";")[0].strip().lower()
    return declared if declared in _VIDEO_TYPES else FALLBACK_TYPE


def _opener(field_file: FieldFile) -> IO[bytes]:
    try:
        return field_file.storage.open(field_file.name or "", "rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None


def video_response(
    request: HttpRequest, asset: MediaAsset, *, cache_control: str
) -> HttpResponseBase:
    """The asset's file for GET or HEAD, honouring Range; 404 when the file is gone."""
    return ranged_file_response(
        request,
        open_file=lambda: _opener(asset.file),
        size=asset.size,
        content_type=content_type_for(asset),
        etag=f'"{asset.sha256}"',
        cache_control=cache_control,
    )


def poster_response(asset: MediaAsset) -> FileResponse:
    if not asset.poster:
        raise Http404("No poster yet.")
    response = FileResponse(_opener(asset.poster), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
