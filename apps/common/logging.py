"""Log and audit plumbing: the current request's id, IP and user agent, wherever code runs; and
the filters every log handler applies (secrets redacted, /healthz's expected 503 not an error)."""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import quote

from apps.common.http import REDACTED, SECRET_NAMES, redact_text


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


# `name=value` for a secret name (http.py's SECRET_NAMES, the one list), wherever it appears in a
# line: in a query string or a form body, or quoted in an error message. runserver's request log
# prints whole request lines, and Instagram's access_token travels in the query (PLATFORMS §2).
# Values redact_url already masked (it URL-encodes the marker) are left as they are.
_SECRET_PARAM = re.compile(
    r"(?i)((?<![\w.-])(?:" + "|".join(sorted(map(re.escape, SECRET_NAMES))) + r")=)"
    r"(?!" + re.escape(REDACTED) + "|" + re.escape(quote(REDACTED)) + r")[^&\s\"'#]*"
)


# URL paths whose next segment is itself the credential: a connect link and its result page,
# an invitation, and the signed media URL a platform fetches. Longer prefixes first.
SECRET_PATH_PREFIXES = ("connect/result", "connect", "invitations", "m")
_SECRET_PATH = re.compile(
    # At the root of a path: after a space or quote (a request line) or after a URL's host.
    r"((?:^|[\s\"'(=]|//[^/\s\"']+)/(?:" + "|".join(map(re.escape, SECRET_PATH_PREFIXES)) + r")/)"
    r"(?!" + re.escape(REDACTED) + r")[^/\s?#\"']+"
)


def redact_log_text(text: str) -> str:
    """Mask secret query/form values, path tokens, bearer tokens and token-shaped strings in a
    log line."""
    text = _SECRET_PATH.sub(r"\1" + REDACTED, text)
    return redact_text(_SECRET_PARAM.sub(r"\1" + REDACTED, text))


class RedactSecretsFilter(logging.Filter):
    """On every handler (DESIGN §10): the rendered message, its arguments included, and any
    traceback text are redacted before a formatter sees them, whoever logged the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_log_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_log_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_log_text(record.stack_info)
        return True


class HealthAnswerFilter(logging.Filter):
    """Drops django.request's per-poll "Service Unavailable: /healthz" ERROR. The 503 is the
    endpoint's designed answer while a part is down (a worker not started yet, say), not a server
    error; apps.common.health logs each change of health once instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) != 503:
            return True
        match = getattr(getattr(record, "request", None), "resolver_match", None)
        return getattr(match, "url_name", None) != "healthz"
