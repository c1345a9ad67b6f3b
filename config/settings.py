"""Switchboard settings: everything comes from the environment (django-environ).

Groups follow DESIGN §12. Production secrets have no default; demo mode (`SWITCHBOARD_DEMO=1`,
set by `scripts/run`) and tests generate what they need.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
TESTING = "pytest" in sys.modules or env.bool("SWITCHBOARD_TESTING", default=False)
# `.env` fills in what the environment leaves unset; scripts/run writes the demo's settings there.
# Tests never read it, so they behave the same in a demo checkout. SWITCHBOARD_ENV_FILE names
# another file, or none when empty (tests that start manage.py in production mode).
_ENV_FILE = env.str("SWITCHBOARD_ENV_FILE", default=str(BASE_DIR / ".env"))
if _ENV_FILE and not TESTING:
    environ.Env.read_env(_ENV_FILE, overwrite=False)

DEMO = env.bool("SWITCHBOARD_DEMO", default=False)
DEBUG = env.bool("DEBUG", default=False)

# --- Secrets ------------------------------------------------------------------------------------
# Outside debug/demo/tests these must be set; the app refuses to start and names what is missing.
_REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "ALLOWED_HOSTS", "TOKEN_ENCRYPTION_KEYS")
if not (DEBUG or DEMO or TESTING):
    _missing = [name for name in _REQUIRED_IN_PRODUCTION if not env.str(name, default="")]
    if _missing:
        raise ImproperlyConfigured(
            "Switchboard refuses to start with DEBUG off: set "
            + ", ".join(_missing)
            + " in the environment (see .env.example), or DEBUG=1 on a development machine."
        )

# Development fallbacks are only reachable when DEBUG, DEMO or TESTING is on (checked above).
SECRET_KEY = env.str("SECRET_KEY", default="") or "insecure-dev-only-" + "x" * 40
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
# First key encrypts, every key decrypts (apps/common/crypto.py).
TOKEN_ENCRYPTION_KEYS = env.list(
    "TOKEN_ENCRYPTION_KEYS",
    default=["ZGV2LW9ubHktdG9rZW4ta2V5LWRvLW5vdC11c2UtISE="],
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The agency's name, shown to brands on connect-link pages and in emails.
AGENCY_NAME = env.str("AGENCY_NAME", default="Switchboard")

# --- Applications -------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "django_htmx",
    "template_partials",
    "django_q",
    "csp",
    "apps.common",
    "apps.staff",
    "apps.clients",
    "apps.audit",
    "apps.connections",
    "apps.platforms",
    "apps.publishing",
    "apps.dashboard",
    "apps.ops",
    "apps.demo",
    # "apps.emulator" (the sandbox) is added with EMULATOR_ENABLED, under Platforms below.
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.common.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # allauth's UserSessionsMiddleware, writing each session's row at most once a minute.
    "apps.staff.middleware.UserSessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "apps.staff.middleware.MfaRequiredForAdminsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "apps.common.context_processors.switchboard",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker share one SQLite file: WAL + IMMEDIATE transactions + a busy timeout avoid
    # "database is locked" (DESIGN §3). WAL itself is switched on in apps.common.apps.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth (django-allauth) ----------------------------------------------------------------------
AUTH_USER_MODEL = "staff.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # The production hasher costs ~0.3 s a password; the suite makes thousands of them.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_ADAPTER = "apps.staff.adapters.StaffAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("REAUTHENTICATION_TIMEOUT", default=300)


def _rate_limit(name: str, *, default: str, per: str) -> str:
    """An allauth rate list from the environment ("5/5m/key" or "20/m/key,100/h/key"): amount,
    period (s, m, h, d, optionally with a number) and what it counts, which must be `per`."""
    value = env.str(name, default=default)
    form = rf"\d+/\d*[smhd]/{per}" + (r"|\d+/\d*[smhd]" if per == "ip" else "")
    for part in value.split(","):
        if part.strip() and not re.fullmatch(form, part.strip()):
            raise ImproperlyConfigured(
                f"{name}={value!r}: each rate must look like 10/5m/{per} (amount/period/{per})."
            )
    return value


# Sign-in limits (DESIGN §10). An agency's office signs in from one public address, so the
# per-address limits let fifty people sign in at nine o'clock; guessing one account's password is
# what the strict per-account limit stops. The limits live in the shared cache (see Cache).
ACCOUNT_RATE_LIMITS = {
    # Sign-in form submissions per client address.
    "login": _rate_limit("LOGIN_RATE_LIMIT", default="200/m/ip", per="ip"),
    # Failed sign-ins per account (the email typed). allauth counts an attempt before checking the
    # password, so a burst of parallel guesses cannot overshoot, and hands it back when it was
    # right.
    "login_failed": _rate_limit("LOGIN_FAILED_RATE_LIMIT", default="5/5m/key", per="key"),
    # Failed sign-ins per client address, counted only once a password proved wrong
    # (apps/staff/adapters.py): sign-ins still in flight hold none of it.
    "login_failed_ip": _rate_limit("LOGIN_FAILED_IP_RATE_LIMIT", default="50/5m/ip", per="ip"),
}
# The client address is the one our own proxies saw: X-Forwarded-For is read through this many
# trusted proxies (0: not at all, REMOTE_ADDR is the client). Too low and every sign-in counts
# against the proxy's address; too high and a client can choose its own address.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Seconds a sign-in may wait for a limit's counter lock in the shared cache before it is refused
# (allauth's own is 1 s; apps/staff/ratelimits.py apply_lock_wait).
RATE_LIMIT_LOCK_WAIT = env.float("RATE_LIMIT_LOCK_WAIT", default=10.0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Switchboard"
# Admins must enrol MFA before using the console (DESIGN §1); off in the demo for easy evaluation.
MFA_REQUIRED_FOR_ADMINS = env.bool("MFA_REQUIRED_FOR_ADMINS", default=not (DEMO or TESTING))
USERSESSIONS_TRACK_ACTIVITY = True
# A session's "last seen" (its row) is written at most this often, in seconds (and at once when
# its address or browser changes): allauth would write it on every request.
USER_SESSION_ACTIVITY_INTERVAL = env.int("SESSION_ACTIVITY_INTERVAL", default=60)
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=7)

# --- Sessions and cookies -----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG and not DEMO and not TESTING:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# Behind a proxy that terminates TLS, requests reach us as plain http and only X-Forwarded-Proto
# says they came in over https. Trusting that header is safe only when the proxy overwrites it on
# every request, so it is an explicit switch (deploy/README.md); without it a client could claim
# https for itself. config/gunicorn.py reads the same switch for gunicorn's own trust.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Content Security Policy (django-csp 4) -----------------------------------------------------
# Strict: our own scripts and styles only, no inline code, no CDN.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# --- Static and media ---------------------------------------------------------------------------
STATIC_URL = "/static/"
# Where collectstatic puts the files WhiteNoise serves (deploy/README.md).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default="") or BASE_DIR / "var" / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded media is private: MEDIA_URL is never routed and MEDIA_ROOT lies outside everything the
# static handler serves. Media leaves only through access-checked views and signed, expiring
# URLs (apps/publishing/assets/).
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default="") or BASE_DIR / "var" / "media")
# Any Django storage backend for media (several web/worker machines share S3-compatible object
# storage, README "Operations"): a dotted class path and its options as JSON, e.g.
# MEDIA_STORAGE=storages.backends.s3.S3Storage
# MEDIA_STORAGE_OPTIONS={"bucket_name": "switchboard-media", "default_acl": "private"}
MEDIA_STORAGE = (
    env.str("MEDIA_STORAGE", default="") or "django.core.files.storage.FileSystemStorage"
)
try:
    MEDIA_STORAGE_OPTIONS = json.loads(env.str("MEDIA_STORAGE_OPTIONS", default="") or "{}")
except json.JSONDecodeError as error:
    raise ImproperlyConfigured(f"MEDIA_STORAGE_OPTIONS is not valid JSON: {error}") from None
if not isinstance(MEDIA_STORAGE_OPTIONS, dict):
    raise ImproperlyConfigured("MEDIA_STORAGE_OPTIONS must be a JSON object.")
# Instagram's maximum for a Reel is the binding one of the two platforms (PLATFORMS §2.8, §3).
MEDIA_MAX_UPLOAD_BYTES = env.int("MEDIA_MAX_UPLOAD_BYTES", default=300_000_000)
# Uploads stream to a temporary file here before they are stored; keep it on disk, not tmpfs,
# or a 300 MB upload sits in memory. Empty: the system's temporary directory.
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default="") or None
# The probe reads untrusted files in a separate process; it is stopped after this many seconds.
# Q_TIMEOUT must stay above it plus the time to copy a file out of remote storage.
MEDIA_PROBE_TIMEOUT = env.int("MEDIA_PROBE_TIMEOUT", default=60)
# How long the signed URL a platform fetches a video through stays valid (seconds).
# Meta fetches a Reel's video_url while it processes the container (minutes after it is made).
MEDIA_PUBLIC_URL_TTL = env.int("MEDIA_PUBLIC_URL_TTL", default=2 * 3600)
STORAGES = {
    "default": {"BACKEND": MEDIA_STORAGE, "OPTIONS": MEDIA_STORAGE_OPTIONS},
    "staticfiles": {
        "BACKEND": (
            # The demo runs with DEBUG off (our own error pages) and without collectstatic.
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or DEMO or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEMO or DEBUG

# --- Email --------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Switchboard <switchboard@localhost>")

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Background work (django-q2) ----------------------------------------------------------------
# `retry` must exceed the longest task run plus its queue wait, or the broker re-delivers a task
# that is still running (DESIGN §3). `max_attempts` bounds re-delivery of a failing task.
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER: dict[str, object] = {
    "name": env.str("Q_CLUSTER_NAME", default="switchboard"),
    # One worker runs the dispatcher loop (PUBLISH_DISPATCH_LOOP_SECONDS at a time); the others
    # publish, check and refresh.
    "workers": env.int("Q_WORKERS", default=4),
    "timeout": env.int("Q_TIMEOUT", default=120),
    "retry": env.int("Q_RETRY", default=300),
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=3),
    "ack_failures": True,
    "save_limit": 1000,
    "catch_up": False,
    "poll": 1,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# --- Publishing pipeline (DESIGN §6; apps/publishing/pipeline/) ------------------------------
# How long one dispatcher loop runs before it hands over to its successor (< Q_TIMEOUT), and how
# often it looks for due work (the dispatch lag's floor).
PUBLISH_DISPATCH_LOOP_SECONDS = env.float("PUBLISH_DISPATCH_LOOP_SECONDS", default=50.0)
PUBLISH_DISPATCH_POLL_SECONDS = env.float("PUBLISH_DISPATCH_POLL_SECONDS", default=1.0)
# After asking for its successor a loop goes on dispatching until the successor starts, for this
# long at most (LOOP + HANDOVER must stay under Q_TIMEOUT, which ends a task).
PUBLISH_DISPATCH_HANDOVER_SECONDS = env.float("PUBLISH_DISPATCH_HANDOVER_SECONDS", default=40.0)
# A target in dispatched/publishing whose worker has not written for this long is taken back and
# reconciled. Each platform call and chunk renews it, so it bounds one call, not a whole upload.
PUBLISH_LEASE_SECONDS = env.int("PUBLISH_LEASE_SECONDS", default=300)
# Transient failures: attempts before a target fails, and the backoff's first step and ceiling.
PUBLISH_MAX_ATTEMPTS = env.int("PUBLISH_MAX_ATTEMPTS", default=6)
PUBLISH_BACKOFF_SECONDS = env.float("PUBLISH_BACKOFF_SECONDS", default=30.0)
PUBLISH_BACKOFF_MAX_SECONDS = env.float("PUBLISH_BACKOFF_MAX_SECONDS", default=1800.0)
# How long a target waits for its account to be reconnected before it fails.
PUBLISH_RECONNECT_WAIT_SECONDS = env.int("PUBLISH_RECONNECT_WAIT_SECONDS", default=24 * 3600)
# Confirmation polling: first wait, ceiling, and when an unanswered publish becomes unconfirmed.
PUBLISH_CONFIRM_FIRST_SECONDS = env.float("PUBLISH_CONFIRM_FIRST_SECONDS", default=5.0)
PUBLISH_CONFIRM_MAX_SECONDS = env.float("PUBLISH_CONFIRM_MAX_SECONDS", default=300.0)
PUBLISH_CONFIRM_GIVE_UP_SECONDS = env.int("PUBLISH_CONFIRM_GIVE_UP_SECONDS", default=6 * 3600)

# A heartbeat older than this makes /healthz report the worker as down.
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", default=180)

# --- Cache --------------------------------------------------------------------------------------
# What every web process must agree on lives here: allauth's sign-in rate limits and the TOTP
# codes already used (a code replayed to another process must still be refused). Never
# per-process memory: Redis when REDIS_URL is set, else a database table that `migrate` creates
# (apps/common/migrations/0003_cache_table.py). Tests use the table, whatever REDIS_URL says: a
# test's writes roll back with its transaction, so no limit leaks into the next test or into a
# suite running beside it; tests/common/test_cache.py proves the Redis path on a database of its
# own.
CACHE_TABLE = "switchboard_cache"  # also named in that migration
if REDIS_URL and not TESTING:
    CACHES = {
        "default": {
            # Django's Redis cache, except that clear() leaves the broker's keys alone.
            "BACKEND": "apps.common.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "switchboard",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_TABLE,
            # Django's default of 300 entries would cull live rate-limit counters at the first
            # busy morning (culling drops a third of the keys, not the oldest).
            "OPTIONS": {"MAX_ENTRIES": env.int("CACHE_MAX_ENTRIES", default=20000)},
        }
    }

# --- Platforms (DESIGN §9, PLATFORMS.md) --------------------------------------------------------
# The sandbox lives in this same process under /_emulator/; production points these at the real
# hosts. Application code cannot tell the two apart.
EMULATOR_ENABLED = env.bool("EMULATOR_ENABLED", default=DEMO or DEBUG or TESTING)
EMULATOR_FORCE = env.bool("EMULATOR_FORCE", default=TESTING)
if EMULATOR_ENABLED:
    # Installed only where it is mounted (config/urls.py): production has neither the sandbox's
    # tables nor its migrations. No other app imports it (tests/test_layering.py).
    INSTALLED_APPS.append("apps.emulator")
_EMULATOR_BASE = env.str("EMULATOR_BASE_URL", default=PUBLIC_BASE_URL + "/_emulator").rstrip("/")
_USE_EMULATOR_HOSTS = EMULATOR_ENABLED and env.bool("PLATFORMS_USE_EMULATOR", default=True)
TIKTOK_CLIENT_KEY = env.str("TIKTOK_CLIENT_KEY", default="sbx-tiktok-client-key")
TIKTOK_CLIENT_SECRET = env.str("TIKTOK_CLIENT_SECRET", default="sbx-tiktok-client-secret")
INSTAGRAM_APP_ID = env.str("INSTAGRAM_APP_ID", default="990000000000001")
INSTAGRAM_APP_SECRET = env.str("INSTAGRAM_APP_SECRET", default="sbx-instagram-app-secret")
# The parent Meta app's secret, optional. A production handler reports that Meta signs Instagram
# Login's deauthorize / data-deletion callbacks with it (PLATFORMS §2.11): when set, a signature
# made with either secret is accepted. Empty: only INSTAGRAM_APP_SECRET.
META_APP_SECRET = env.str("META_APP_SECRET", default="")
# PLATFORMS §2.1: v25.0 or newer. `manage.py check` warns 90 days before Meta stops serving the
# configured version (dates: apps/platforms/instagram/graph_versions.py).
INSTAGRAM_GRAPH_VERSION = env.str("INSTAGRAM_GRAPH_VERSION", default="v25.0")
PLATFORM_BASE_URLS = {
    "tiktok_auth": _EMULATOR_BASE + "/tiktok" if _USE_EMULATOR_HOSTS else "https://www.tiktok.com",
    "tiktok_api": (
        _EMULATOR_BASE + "/tiktok-api" if _USE_EMULATOR_HOSTS else "https://open.tiktokapis.com"
    ),
    "instagram_auth": (
        _EMULATOR_BASE + "/instagram" if _USE_EMULATOR_HOSTS else "https://www.instagram.com"
    ),
    "instagram_api": (
        _EMULATOR_BASE + "/instagram-api" if _USE_EMULATOR_HOSTS else "https://api.instagram.com"
    ),
    "instagram_graph": (
        _EMULATOR_BASE + "/instagram-graph"
        if _USE_EMULATOR_HOSTS
        else "https://graph.instagram.com"
    ),
}
# Fixed, distinct redirect URI per platform (mix-up defence, DESIGN §10). TikTok's review rejects
# redirect paths containing "tiktok" (PLATFORMS §1.2), hence the neutral aliases.
OAUTH_REDIRECT_PATHS = {"tiktok": "/oauth/callback/tt/", "instagram": "/oauth/callback/ig/"}
# Where the platforms (or the sandbox) deliver webhooks and callbacks (receivers: issue 4).
WEBHOOK_PATHS = {
    "tiktok": "/webhooks/tt/",
    "instagram_deauthorize": "/webhooks/ig/deauthorize/",
    "instagram_data_deletion": "/webhooks/ig/data-deletion/",
}
# Refused (unverifiable) webhook deliveries recorded per platform per minute; more get a 429.
WEBHOOK_UNVERIFIED_PER_MINUTE = env.int("WEBHOOK_UNVERIFIED_PER_MINUTE", default=30)
# Health checks of every active account are spread over this interval (seconds).
CONNECTION_CHECK_INTERVAL = env.int("CONNECTION_CHECK_INTERVAL", default=6 * 3600)
# The dashboard's health panel asks for news this often (seconds) while its tab is visible, then
# twice as long after each unchanged answer, up to the maximum; a hidden tab asks nothing
# (static/js/app.js, data-poll).
HEALTH_POLL_INTERVAL = env.float("HEALTH_POLL_INTERVAL", default=5.0)
HEALTH_POLL_MAX_INTERVAL = env.float("HEALTH_POLL_MAX_INTERVAL", default=60.0)
# A post page asks for its accounts' news this often (seconds) while one of them is on its way
# out, backing off the same way up to the maximum; it stops once all are done.
POST_POLL_INTERVAL = env.float("POST_POLL_INTERVAL", default=3.0)
POST_POLL_MAX_INTERVAL = env.float("POST_POLL_MAX_INTERVAL", default=30.0)
# /metrics (Prometheus text format) answers only a request with `Authorization: Bearer <this>`;
# empty: there is no /metrics at all (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Connect and reconnect are form POSTs answered with a redirect to the platform's consent page;
# browsers apply `form-action` to that redirect, so the consent origins are allowed there.
CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] = [
    "'self'",
    *sorted(
        {
            "{0.scheme}://{0.netloc}".format(urlsplit(PLATFORM_BASE_URLS[key]))
            for key in ("tiktok_auth", "instagram_auth")
        }
    ),
]
# Outbound HTTP (apps/common/http.py): (connect, read) seconds.
HTTP_TIMEOUT = (
    env.float("HTTP_CONNECT_TIMEOUT", default=5.0),
    env.float("HTTP_READ_TIMEOUT", default=30.0),
)

# --- Logging ------------------------------------------------------------------------------------
# Every handler redacts secrets (apps.common.logging): Instagram's access token travels in the
# query (PLATFORMS §2), and runserver's request log prints whole URLs (DESIGN §10).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "apps.common.logging.RequestIdFilter"},
        "redact_secrets": {"()": "apps.common.logging.RedactSecretsFilter"},
        "health_answer": {"()": "apps.common.logging.HealthAnswerFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        # runserver's request log keeps Django's own look.
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id", "redact_secrets"],
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's default handlers give way to ours: its DEBUG-only console printed every django.*
        # line a second time, unredacted; its mail_admins handler has no ADMINS to write to.
        "django": {"handlers": [], "level": "INFO"},
        # Django's default gives runserver's logger its own handler and no propagation: replaced
        # with the same, redacted.
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.request": {"filters": ["health_answer"]},
        "django.db.backends": {"level": "WARNING"},
        # django-q2 logs as "django-q" (django_q/conf.py).
        "django-q": {"level": env.str("Q_LOG_LEVEL", default="WARNING")},
        # urllib3's DEBUG lines print request URLs with their query strings, and Instagram's
        # access token travels in the query (PLATFORMS §2): never below WARNING (DESIGN §10).
        "urllib3": {"level": "WARNING"},
    },
}

if os.environ.get("SWITCHBOARD_SHOW_SETTINGS"):  # pragma: no cover - debugging aid
    print({"DEBUG": DEBUG, "DEMO": DEMO, "DATABASE": DATABASES["default"]["ENGINE"]})
