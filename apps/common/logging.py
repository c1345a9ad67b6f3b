"""Log and audit plumbing: the current request's id, IP and user agent, wherever code runs."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestMeta:
    request_id: str = ""
    ip: str | None = None
    user_agent: str = ""


request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
request_meta_var: ContextVar[RequestMeta | None] = ContextVar("request_meta", default=None)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True
