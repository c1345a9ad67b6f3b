"""Gunicorn settings for the web process: `gunicorn -c config/gunicorn.py` (deploy/README.md).

Everything comes from the environment, like config/settings.py (`.env.example` documents each):
WEB_CONCURRENCY worker processes, GUNICORN_THREADS threads in each, GUNICORN_BIND, the timeouts,
GUNICORN_ACCESS_LOG, and FORWARDED_ALLOW_IPS — which gunicorn honours only with
BEHIND_TLS_PROXY, the switch that makes Django trust X-Forwarded-Proto too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import environ
from gunicorn import glogging

BASE_DIR = Path(__file__).resolve().parent.parent
# Started from anywhere (systemd, a Procfile runner), the project must be importable: the
# logger below and the WSGI app both live in it.
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from apps.common.logging import RedactSecretsFilter  # noqa: E402

env = environ.Env()
# The same `.env` config/settings.py reads (never over what the environment sets), so that a
# setting put there reaches gunicorn's own options as well as Django.
_ENV_FILE = env.str("SWITCHBOARD_ENV_FILE", default=str(BASE_DIR / ".env"))
if _ENV_FILE and os.path.exists(_ENV_FILE):
    environ.Env.read_env(_ENV_FILE, overwrite=False)

wsgi_app = "config.wsgi:application"
chdir = str(BASE_DIR)

# --- Listening and concurrency ------------------------------------------------------------------
# Gunicorn's own default: 0.0.0.0:$PORT when a platform sets PORT, else loopback only (the
# TLS-terminating proxy on the same machine connects there).
bind = env.list(
    "GUNICORN_BIND",
    default=[f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000"],
)
workers = env.int("WEB_CONCURRENCY", default=2 * (os.cpu_count() or 1) + 1)
# Threads share a worker's memory; each keeps its own database connection (CONN_MAX_AGE), so a
# machine holds up to WEB_CONCURRENCY x GUNICORN_THREADS connections to PostgreSQL.
threads = env.int("GUNICORN_THREADS", default=4)
worker_class = "gthread"
# No preload: every worker imports Django and opens its own connections after the fork.
preload_app = False

# --- Timeouts (seconds) -------------------------------------------------------------------------
# A worker silent for `timeout` is killed and replaced. With threads the worker's main loop keeps
# reporting while requests run, so this catches a stuck process, not a slow page; the slowest
# page (Check now: two platform calls, each bounded by HTTP_*_TIMEOUT) needs no larger value.
timeout = env.int("GUNICORN_TIMEOUT", default=30)
# SIGTERM: stop accepting, let requests in flight finish for this long, then stop the workers.
# deploy/switchboard-web.service gives systemd's TimeoutStopSec a margin above it.
graceful_timeout = env.int("GUNICORN_GRACEFUL_TIMEOUT", default=30)
# Idle keep-alive connections. Behind a load balancer that reuses connections, set this above
# the balancer's idle timeout, or it may send a request on a connection gunicorn just closed.
keepalive = env.int("GUNICORN_KEEPALIVE", default=5)

# --- Proxy --------------------------------------------------------------------------------------
# Gunicorn turns X-Forwarded-Proto: https into an https request on its own, whatever Django's
# SECURE_PROXY_SSL_HEADER says: by default from 127.0.0.1 and from any peer of a unix socket.
# Without BEHIND_TLS_PROXY it trusts nobody's, or a client on the machine could claim https.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
forwarded_allow_ips = (
    env.str("FORWARDED_ALLOW_IPS", default="127.0.0.1,::1") if BEHIND_TLS_PROXY else ""
)
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"} if BEHIND_TLS_PROXY else {}

# --- Logs ---------------------------------------------------------------------------------------
# Error log to stderr, access log to stdout (journald or the platform collects both). An empty
# GUNICORN_ACCESS_LOG turns the access log off.
errorlog = "-"
loglevel = env.str("GUNICORN_LOG_LEVEL", default="info")
accesslog = env.str("GUNICORN_ACCESS_LOG", default="-") or None
# Apache's combined format, plus the time taken and the request id Django's RequestIdMiddleware
# answers with (the same id as in the application's log lines and audit rows).
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms rid=%({x-request-id}o)s'
)


class RedactingLogger(glogging.Logger):
    """Gunicorn's logger with the redaction every Django log handler applies (DESIGN §10).

    The access log prints whole request lines and referrers, and secrets travel in URLs: OAuth
    callbacks carry `code=`, Instagram's access token is a query parameter (PLATFORMS §2). The
    filter sits on the loggers, so any handler gunicorn sets up (stdout, a file, syslog, a reopen
    after SIGUSR1) gets lines already redacted.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactSecretsFilter) for f in log.filters):
                log.addFilter(RedactSecretsFilter())


logger_class = RedactingLogger
