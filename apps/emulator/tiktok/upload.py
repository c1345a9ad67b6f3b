"""TikTok's upload host: `PUT {upload_url}` with Content-Range chunks (PLATFORMS §1.6(d)).

Replies: 206 chunk accepted, more expected; 201 all bytes received (processing starts);
400 bad headers or length; 403 upload_url expired (or wrong token / cancelled task);
404 unknown task; 416 Content-Range does not continue from the bytes received so far.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.emulator import clock
from apps.emulator.common import storage_dir
from apps.emulator.faults import fault_point
from apps.emulator.models import TikTokPublish
from apps.emulator.tiktok import rules
from apps.emulator.tiktok.posting import start_processing

CONTENT_TYPES = {"video/mp4", "video/quicktime", "video/webm"}
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def _reply(status: int, message: str, publish: TikTokPublish | None = None) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain")
    if publish is not None and publish.uploaded_bytes:
        response["Content-Range"] = f"bytes 0-{publish.uploaded_bytes - 1}/{publish.video_size}"
    return response


@csrf_exempt
@require_http_methods(["PUT"])
@fault_point("tiktok.upload")
def upload_video(request: HttpRequest) -> HttpResponse:
    """PUT /video/?upload_id=…&upload_token=… — one chunk per request, sequentially."""
    publish = TikTokPublish.objects.filter(
        pk=int(request.GET["upload_id"]) if request.GET.get("upload_id", "").isdigit() else 0,
        source="FILE_UPLOAD",
    ).first()
    if publish is None:
        return _reply(404, "unknown upload task")
    if request.GET.get("upload_token") != publish.upload_token:
        return _reply(403, "invalid upload_token")
    if publish.phase == TikTokPublish.Phase.CANCELLED:
        return _reply(403, "the publish was cancelled")
    if publish.upload_expires_at is None or clock.now() > publish.upload_expires_at:
        return _reply(403, "upload_url expired")
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in CONTENT_TYPES:
        return _reply(400, "Content-Type must be video/mp4, video/quicktime or video/webm")
    match = _RANGE.match(request.headers.get("Content-Range", ""))
    if not match:
        return _reply(400, "Content-Range must be 'bytes {first}-{last}/{total}'")
    first, last, total = (int(g) for g in match.groups())
    if total != publish.video_size or last < first or last >= total:
        return _reply(400, "Content-Range does not match video_size")
    if publish.phase != TikTokPublish.Phase.UPLOADING or first != publish.uploaded_bytes:
        return _reply(416, "Content-Range does not continue the upload", publish)
    declared = request.headers.get("Content-Length", "")
    expected = rules.expected_chunk_length(publish, first)
    if last - first + 1 != expected or declared != str(expected):
        return _reply(400, f"this chunk must be {expected} bytes", publish)
    # Stream to a temp file: chunks are 5-64 MB, beyond Django's in-memory body limit.
    received = 0
    with tempfile.NamedTemporaryFile(dir=storage_dir(), delete=False) as tmp:
        while block := request.read(1 << 20):
            received += len(block)
            if received > expected:
                break
            tmp.write(block)
    tmp_path = Path(tmp.name)
    if received != expected:
        tmp_path.unlink(missing_ok=True)
        return _reply(400, "body length does not match Content-Length", publish)
    target = storage_dir() / f"tt-{publish.pk}.bin"
    with target.open("ab") as out, tmp_path.open("rb") as src:
        shutil.copyfileobj(src, out)
    tmp_path.unlink(missing_ok=True)
    publish.uploaded_bytes += received
    publish.save(update_fields=["uploaded_bytes"])
    if publish.uploaded_bytes < publish.video_size:
        return _reply(206, "chunk received", publish)
    start_processing(publish, target)
    return _reply(201, "upload complete", publish)
