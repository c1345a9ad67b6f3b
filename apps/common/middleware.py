"""Request ids: one per request, echoed in a response header, in log lines and in audit rows."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.common.logging import RequestMeta, request_id_var, request_meta_var

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        meta = RequestMeta(
            request_id=request_id,
            ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.headers.get("User-Agent", "")[:400],
        )
        id_token = request_id_var.set(request_id)
        meta_token = request_meta_var.set(meta)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(id_token)
            request_meta_var.reset(meta_token)
        response["X-Request-ID"] = request_id
        return response
