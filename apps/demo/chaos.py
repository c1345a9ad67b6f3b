"""The chaos test behind `manage.py chaos`: the real publishing pipeline, in real processes,
while the platforms misbehave and workers die.

One web process (runserver: the app, our webhook receiver and the sandbox under /_emulator/) and
C qcluster processes run against the database the settings point at. The run seeds a client of
its own ("Chaos run <time>") with sandbox accounts linked through the real OAuth services, and
N targets (cross-posts to one TikTok and one Instagram account, each with a caption of its own)
due within the first ~20 s. It then makes a share of the sandbox's publishing calls fail (lost
answers after the side effect, 500s, 429s, timeouts) and SIGKILLs a random qcluster process group
every few seconds, starting a replacement each time, until every target is final (published,
failed, unconfirmed or cancelled) or time runs out. Then the faults and kills stop, and targets
still on their way (a rate limit's minute, a lapsed lease) get a while to land; a target not
final after that is lost.

django-q's scheduler first runs 30 s after a qcluster starts, which kills every few seconds rarely
allow, so the run also does the minute schedule's job itself: whenever no dispatcher loop holds
the lease, it enqueues one (`watchdog`; at most every 5 s).

The sandbox is reached only over HTTP, through its control API, as the tests do (no app imports
`apps.emulator`): its ledger holds one row per post it made, so a caption posted twice is a
duplicate. Everything it starts is stopped at the end, on an error and on Ctrl-C; its fault
rules are removed and the sandbox settings it changed are put back. Its rows (client, accounts,
posts, sandbox accounts) stay.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.db.models import Count
from django.test.utils import override_settings
from django.utils import timezone

from apps.clients import services as client_services
from apps.clients.models import Client
from apps.connections.models import LinkedAccount
from apps.connections.services.oauth import oauth_complete, oauth_start
from apps.demo.videos import make_video
from apps.platforms.types import Platform
from apps.publishing.accounts import AccountCheck, check_accounts
from apps.publishing.assets.services import media_asset_probe
from apps.publishing.composition import PostContent, TargetPlan
from apps.publishing.models import (
    CrossPost,
    DispatcherLease,
    MediaAsset,
    PublishAttempt,
    PublishTarget,
)
from apps.publishing.pipeline.dispatch import LOOP_NAME, LOOP_TASK
from apps.publishing.services import crosspost_schedule
from apps.staff.models import Role, User

ROOT = Path(__file__).resolve().parents[2]
CONTROL = "/_emulator/control/api"
ACTOR_EMAIL = "chaos@chaos.invalid"  # .invalid never resolves (RFC 2606)
SESSION = "chaos-run"  # the "browser session" the OAuth requests are bound to
POSTS_PER_ACCOUNT = 5  # TikTok caps a creator's posts a day; Instagram 100 in 24 h
DUE_SPREAD_S = 20.0  # the targets fall due over this many seconds from the start
WORKERS_PER_CLUSTER = 4
STOP_GRACE_S = 10.0
# A call the sandbox holds this long has timed out on our side (HTTP_READ_TIMEOUT below).
READ_TIMEOUT_S = 5
TIMEOUT_FAULT_MS = (READ_TIMEOUT_S + 2) * 1000
TT_SCOPES = ("user.info.basic", "user.info.profile", "video.publish", "video.list")
IG_SCOPES = ("instagram_business_basic", "instagram_business_content_publish")
FINAL = ("published", "failed", "unconfirmed", "cancelled")
WATCHDOG_EVERY_S = 5.0

# The sandbox endpoints a publish calls, by error family (apps/emulator/faults.py ENDPOINTS).
PUBLISHING_ENDPOINTS = {
    "tiktok.creator_info": "tiktok_api",
    "tiktok.video_init": "tiktok_api",
    "tiktok.upload": "raw",
    "tiktok.status": "tiktok_api",
    "tiktok.video_list": "tiktok_api",
    "instagram.publishing_limit": "graph",
    "instagram.media_create": "graph",
    "instagram.container": "graph",
    "instagram.media_publish": "graph",
}
INTERNAL_ERROR = {"tiktok_api": "internal_error", "graph": "transient", "raw": "http_500"}
RATE_LIMIT = {"tiktok_api": "rate_limit_exceeded", "graph": "user_throttled"}

# The pipeline's settings for fast recovery (config/settings.py reads each from the environment).
FAST_RECOVERY = {
    "PUBLISH_LEASE_SECONDS": "15",
    "PUBLISH_BACKOFF_SECONDS": "1",
    "PUBLISH_BACKOFF_MAX_SECONDS": "5",
    "PUBLISH_CONFIRM_FIRST_SECONDS": "1",
    "PUBLISH_CONFIRM_MAX_SECONDS": "3",
    "PUBLISH_MAX_ATTEMPTS": "8",
    "PUBLISH_DISPATCH_LOOP_SECONDS": "20",
    "PUBLISH_DISPATCH_POLL_SECONDS": "1",
    "PUBLISH_DISPATCH_HANDOVER_SECONDS": "10",
    # A task runs well under Q_TIMEOUT (the dispatcher loop: 20 s + 10 s); the broker hands an
    # unacknowledged task out again after Q_RETRY, which must exceed that.
    "Q_TIMEOUT": "40",
    "Q_RETRY": "50",
    "HTTP_CONNECT_TIMEOUT": "5",
    "HTTP_READ_TIMEOUT": str(READ_TIMEOUT_S),
}
SANDBOX_CONFIG = {
    "tiktok_processing_seconds": 1,
    "tiktok_moderation_seconds": 1,
    "instagram_processing_seconds": 1,
    # Many creators post in one run (and runs add up within the sandbox's 24 h window).
    "tiktok_active_user_cap": 1_000_000,
    "tiktok_client_audited": True,
    "webhooks_enabled": True,
}
# What the machine running the command may have set that would change the processes it starts.
_AMBIENT = (
    "PYTEST",
    "DEBUG",
    "SWITCHBOARD_",
    "EMULATOR_",
    "PLATFORMS_USE_EMULATOR",
    "DATABASE_URL",
    "REDIS_URL",
    "Q_",
    "PUBLISH_",
    "HTTP_",
    "PUBLIC_BASE_URL",
    "MEDIA_",
    "PORT",
)


class ChaosError(Exception):
    """The run cannot start or went wrong; the message says why."""


@dataclass(frozen=True)
class Plan:
    targets: int = 200
    fault_rate: float = 0.10
    clusters: int = 2
    kill_every: float = 5.0  # seconds between kills, on average; 0: no kills
    timeout: float = 600.0  # of chaos; then faults and kills stop
    drain: float = 120.0  # the most time then given to targets still on their way
    port: int = 0  # 0: a free one
    seed: int | None = None
    log_dir: Path | None = None
    # Instead of killing at random times: kill a qcluster once while a call of each of these
    # steps (PublishAttempt.step) is in flight, e.g. ("upload", "publish").
    kill_mid_call: tuple[str, ...] = ()
    # Sandbox latency per endpoint (ms), e.g. to give a kill time to land mid-call.
    latency_ms: dict[str, int] = field(default_factory=dict)
    # Start a dispatcher loop whenever none holds the lease (the minute schedule's job, done
    # every few seconds: django-q's scheduler first runs 30 s after a qcluster starts, which
    # frequent kills rarely allow).
    watchdog: bool = True
    # The targets fall due over this many seconds from the start (the dispatch-lag figures
    # come from these due times).
    spread: float = DUE_SPREAD_S


def plan_problems(plan: Plan) -> list[str]:
    problems = []
    if plan.targets < 2 or plan.targets % 2:
        problems.append(
            "--targets must be an even number of at least 2 (half TikTok, half Instagram)."
        )
    if not 0.0 <= plan.fault_rate <= 0.5:
        problems.append("--fault-rate must be between 0 and 0.5.")
    if plan.clusters < 1:
        problems.append("--clusters must be at least 1.")
    if plan.kill_every < 0 or (0 < plan.kill_every < 1):
        problems.append("--kill-every must be 0 (no kills) or at least 1 second.")
    if plan.timeout <= 0:
        problems.append("--timeout must be positive.")
    if plan.drain < 0:
        problems.append("--drain must not be negative.")
    if plan.spread < 0:
        problems.append("--spread must not be negative.")
    if not 0 <= plan.port <= 65535:
        problems.append("--port must be a TCP port (1-65535).")
    unknown = sorted(set(plan.latency_ms) - set(PUBLISHING_ENDPOINTS))
    if unknown:
        problems.append(f"unknown sandbox endpoints for latency: {', '.join(unknown)}")
    return problems


# --- The database -------------------------------------------------------------------------------


def database_refusal() -> str | None:
    """Why the run can't use the configured database, or None."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(db.get("NAME") or "")
        if name in ("", ":memory:") or "mode=memory" in name:
            return (
                "The database is an in-memory SQLite database, which other processes can't "
                "share. Point DATABASE_URL at PostgreSQL or a SQLite file."
            )
    elif connection.vendor != "postgresql":
        return f"The chaos run supports PostgreSQL and SQLite files, not {connection.vendor}."
    if "emulator_sandboxconfig" not in connection.introspection.table_names():
        return (
            "The database has no sandbox tables. Migrate it with the sandbox installed first: "
            "DEBUG=1 manage.py migrate (or SWITCHBOARD_DEMO=1)."
        )
    return None


def database_url() -> str:
    """The URL of the connected database, for the processes the run starts (under pytest,
    that is the test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return "sqlite:///" + str(Path(str(db["NAME"])).resolve())
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else f"{user}@"
    options = {
        key: str(value)
        for key, value in (db.get("OPTIONS") or {}).items()
        if isinstance(value, str | int)
    }
    host = str(db.get("HOST") or "")
    if host.startswith("/"):  # a unix socket's directory
        options["host"], host = host, ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    query = "?" + urlencode(options) if options else ""
    return f"postgres://{auth}{host}{port}/{quote(str(db['NAME']), safe='')}{query}"


# --- The processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(*, base_url: str, queue: str) -> dict[str, str]:
    """The environment of every process the run starts: this process's settings where they must
    agree (database, secrets, media, broker), the sandbox on, and the pipeline's settings for
    fast recovery."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_AMBIENT)}
    env.update(FAST_RECOVERY)
    env.update(
        {
            "SWITCHBOARD_ENV_FILE": "",  # only what is set here (a checkout's .env stays out)
            "SWITCHBOARD_DEMO": "1",
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,
            "TOKEN_ENCRYPTION_KEYS": ",".join(settings.TOKEN_ENCRYPTION_KEYS),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "Q_CLUSTER_NAME": queue,
            "Q_WORKERS": str(WORKERS_PER_CLUSTER),
            "EMULATOR_ENABLED": "1",
            "EMULATOR_FORCE": "1",
            "PUBLIC_BASE_URL": base_url,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "MEDIA_STORAGE": settings.MEDIA_STORAGE,
            "MEDIA_STORAGE_OPTIONS": json.dumps(settings.MEDIA_STORAGE_OPTIONS),
            "TIKTOK_CLIENT_KEY": settings.TIKTOK_CLIENT_KEY,
            "TIKTOK_CLIENT_SECRET": settings.TIKTOK_CLIENT_SECRET,
            "INSTAGRAM_APP_ID": settings.INSTAGRAM_APP_ID,
            "INSTAGRAM_APP_SECRET": settings.INSTAGRAM_APP_SECRET,
            "META_APP_SECRET": settings.META_APP_SECRET,
            "INSTAGRAM_GRAPH_VERSION": settings.INSTAGRAM_GRAPH_VERSION,
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@dataclass
class Child:
    """One started process (runserver, qcluster's main process) in a process group of its own."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def group_alive(self) -> bool:
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # pragma: no cover - a pid reused by someone else
            return False
        return True

    def kill(self) -> None:
        """SIGKILL to the whole group, and reap the main process."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)
        self.close()

    def close(self) -> None:
        if not self.log.closed:
            self.log.close()

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(errors="replace")
            return f"--- {self.name} ({self.log_path}) ---\n" + "\n".join(
                text.splitlines()[-lines:]
            )
        return ""


class Processes:
    """Everything the run started; `stop()` leaves none behind."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.web: Child | None = None
        self.clusters: list[Child] = []
        self.dead: list[Child] = []
        self.started = 0

    def _start(self, name: str, args: list[str], **extra_env: str) -> Child:
        self.started += 1
        path = self.log_dir / f"{name}.log"
        log = path.open("ab")
        popen = subprocess.Popen(  # noqa: S603 - this checkout's manage.py, fixed arguments
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: one killpg reaches its children
        )
        return Child(name=name, popen=popen, log_path=path, log=log)

    def start_web(self, port: int) -> Child:
        # runserver serves each keep-alive connection from a thread of its own, which would keep
        # a database connection open for as long: one per request instead.
        self.web = self._start(
            "web", ["runserver", "--noreload", f"127.0.0.1:{port}"], CONN_MAX_AGE="0"
        )
        return self.web

    def start_cluster(self) -> Child:
        cluster = self._start(f"qcluster-{self.started}", ["qcluster"])
        self.clusters.append(cluster)
        return cluster

    def kill_cluster(self, rng: random.Random) -> Child:
        """SIGKILL one random qcluster process group and start its replacement."""
        victim = rng.choice(self.clusters)
        victim.kill()
        self.clusters.remove(victim)
        self.dead.append(victim)
        self.start_cluster()
        return victim

    def all(self) -> list[Child]:
        return [*([self.web] if self.web else []), *self.clusters, *self.dead]

    def stop_clusters(self) -> None:
        self.stop([*self.clusters, *self.dead])

    def stop(self, children: list[Child] | None = None) -> None:
        """SIGTERM to each main process (as systemd stops them), SIGKILL to the groups of those
        still there after STOP_GRACE_S."""
        children = self.all() if children is None else children
        live = [child for child in children if child.running() or child.group_alive()]
        for child in live:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and any(
            child.running() or child.group_alive() for child in live
        ):
            for child in live:
                child.popen.poll()
            time.sleep(0.1)
        for child in children:
            if child.running() or child.group_alive():
                child.kill()
            child.close()


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """A SIGTERM to this process stops the run like Ctrl-C: through every `finally`."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: nothing to install
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- The sandbox, over HTTP ---------------------------------------------------------------------


class Sandbox:
    """The sandbox's JSON control API (README "The sandbox")."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def api(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        # No keep-alive session: the dev server answers reused connections more slowly.
        response = requests.request(
            method,
            self.base_url + CONTROL + path,
            json=body,
            params=params or None,
            timeout=60,
        )
        if response.status_code >= 300:
            raise ChaosError(
                f"sandbox {method} {path} -> {response.status_code}: {response.text[:300]}"
            )
        return response.json()

    def up(self) -> bool:
        try:
            return requests.get(self.base_url + CONTROL + "/config", timeout=5).status_code == 200
        except requests.RequestException:
            return False


def wait_until_up(sandbox: Sandbox, web: Child, *, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not web.running():
            raise ChaosError("The web process exited while starting.\n" + web.tail())
        if sandbox.up():
            return
        time.sleep(0.2)
    raise ChaosError(f"The web process did not answer within {within:g} s.\n" + web.tail())


def fault_rules(rate: float) -> list[dict[str, Any]]:
    """Rules making `rate` of each publishing endpoint's calls fail, split between the kinds its
    error family has: a lost answer (the call took effect, a 504 came back), an internal error,
    a timeout (the call took effect; our side gave up waiting) and, at half their weight, rate
    limits (the sandbox sends no Retry-After, so each costs the target a minute's wait).

    The sandbox fires the first matching rule, so a kind whose share is s, after kinds sharing
    `before`, gets the rate s / (1 - before)."""
    rules: list[dict[str, Any]] = []
    if rate <= 0:
        return rules
    for endpoint, family in PUBLISHING_ENDPOINTS.items():
        kinds: list[tuple[str, float, dict[str, Any]]] = [
            ("lost response", 1.0, {"lost_response": True}),
            ("internal error", 1.0, {"error": INTERNAL_ERROR[family]}),
            (
                "timeout",
                1.0,
                {"error": "timeout", "lost_response": True, "latency_ms": TIMEOUT_FAULT_MS},
            ),
        ]
        if family in RATE_LIMIT:
            kinds.append(("rate limit", 0.5, {"error": RATE_LIMIT[family]}))
        total = sum(weight for _, weight, _ in kinds)
        before = 0.0
        for kind, weight, rule in kinds:
            share = rate * weight / total
            rules.append(
                {"endpoint": endpoint, "rate": share / (1 - before), **rule, "_kind": kind}
            )
            before += share
    return rules


# --- Seeding ------------------------------------------------------------------------------------


def stored_video(client: Client, actor: User) -> MediaAsset:
    """The client's one video: made, stored and probed by the real probe."""
    with tempfile.TemporaryDirectory() as folder:
        data = make_video(Path(folder) / "chaos.mp4")
    asset = MediaAsset(
        client=client,
        original_name="chaos.mp4",
        content_type="video/mp4",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        uploaded_by=actor,
    )
    asset.file.save("chaos.mp4", ContentFile(data), save=False)
    asset.save()
    if media_asset_probe(asset_id=asset.pk) != "ok":
        raise ChaosError("The generated video could not be probed.")
    asset.refresh_from_db()
    return asset


def link(sandbox: Sandbox, client: Client, actor: User, platform: str, key: str) -> LinkedAccount:
    """Connect sandbox account `key` through the real OAuth services: start, consent (the
    sandbox's control API approves it headlessly), callback."""
    consent = oauth_start(client=client, platform=platform, user=actor, session_key=SESSION)
    query = {k: v[0] for k, v in parse_qs(urlsplit(consent).query).items()}
    grant = sandbox.api(
        "POST",
        "/authorize",
        {
            "account": key,
            "scopes": ",".join(TT_SCOPES if platform == Platform.TIKTOK else IG_SCOPES),
            "redirect_uri": query["redirect_uri"],
            "state": query["state"],
            "code_challenge": query.get("code_challenge", ""),
        },
    )
    if not grant.get("code"):
        raise ChaosError(f"The sandbox refused to authorize {key}: {grant}")
    result = oauth_complete(
        platform=platform,
        params={"state": query["state"], "code": grant["code"]},
        session_key=SESSION,
    )
    if result.account is None:
        raise ChaosError(f"Linking {key} failed: {result.outcome} {result.message}")
    return result.account


def options_for(account: LinkedAccount, check: AccountCheck) -> dict[str, Any]:
    if account.platform == Platform.TIKTOK:
        offered = check.creator.privacy_level_options if check.creator else ()
        level = "PUBLIC_TO_EVERYONE" if "PUBLIC_TO_EVERYONE" in offered else offered[0]
        return {"privacy_level": level, "allow_comment": True}
    return {"share_to_feed": True}


@dataclass
class Seeded:
    client: Client
    run_id: str
    account_keys: list[str]
    posts: int


def seed(plan: Plan, sandbox: Sandbox, run_id: str, say: Callable[[str], None]) -> Seeded:
    """The client, its sandbox accounts linked, its video, and the cross-posts (scheduled an
    hour ahead; `bring_forward()` makes them due)."""
    actor, created = User.objects.get_or_create(
        email=ACTOR_EMAIL, defaults={"name": "Chaos Run", "role": Role.MANAGER}
    )
    if created:
        actor.set_unusable_password()
        actor.save(update_fields=["password"])
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M:%S")
    client = client_services.client_create(
        actor=actor, name=f"Chaos run {stamp} {run_id[-4:]}", timezone_name="UTC"
    )
    media = stored_video(client, actor)
    posts = plan.targets // 2
    pairs = math.ceil(posts / POSTS_PER_ACCOUNT)
    say(f"seeding: {pairs} TikTok + {pairs} Instagram sandbox accounts, {posts} cross-posts")
    keys: list[str] = []
    accounts: list[list[LinkedAccount]] = []
    for i in range(pairs):
        pair: list[LinkedAccount] = []
        for platform, short in ((Platform.TIKTOK, "tt"), (Platform.INSTAGRAM, "ig")):
            key = f"{run_id}-{short}{i:03d}"
            sandbox.api(
                "POST",
                "/accounts",
                {
                    "platform": str(platform),
                    "key": key,
                    "username": f"{run_id}.{short}{i:03d}".replace("-", "_"),
                    "daily_post_cap": 100,
                    **({"account_type": "BUSINESS"} if platform == Platform.INSTAGRAM else {}),
                },
            )
            keys.append(key)
            pair.append(link(sandbox, client, actor, str(platform), key))
        accounts.append(pair)
    later = timezone.now().replace(microsecond=0) + timedelta(hours=1)
    for i, pair in enumerate(accounts):
        checks = check_accounts(pair)
        for n in range(i * POSTS_PER_ACCOUNT, min(posts, (i + 1) * POSTS_PER_ACCOUNT)):
            content = PostContent(
                media=media,
                caption=f"Chaos {run_id} post {n:05d} #chaos",
                caption_overrides={},
                targets=tuple(TargetPlan(a, options_for(a, checks[a.pk])) for a in pair),
            )
            crosspost_schedule(
                actor=actor, client=client, content=content, scheduled_at=later, checks=checks
            )
    return Seeded(client=client, run_id=run_id, account_keys=keys, posts=posts)


def bring_forward(client: Client, *, start: Any, spread_s: float) -> None:
    """Make the run's targets fall due from `start` over `spread_s` seconds."""
    posts = list(
        CrossPost.objects.filter(client=client).order_by("pk").values_list("pk", flat=True)
    )
    for index, pk in enumerate(posts):
        due = start + timedelta(seconds=spread_s * index / max(1, len(posts)))
        CrossPost.objects.filter(pk=pk).update(scheduled_at=due)
        PublishTarget.objects.filter(crosspost_id=pk, state="scheduled").update(due_at=due)


def start_dispatcher_loop(queue: str) -> None:
    """Enqueue one dispatcher loop on the run's queue, as the minute schedule does (a loop that
    finds the lease held returns at once). The run's processes sign their tasks with their own
    queue name (django-q's PREFIX, the salt of its signed packages), so this one is too."""
    from django_q.conf import Conf
    from django_q.tasks import async_task

    prefix = Conf.PREFIX
    Conf.PREFIX = queue
    try:
        async_task(LOOP_TASK, cluster=queue)
    finally:
        Conf.PREFIX = prefix


def wake_dispatcher_schedule() -> None:
    """The minute schedule that starts a dispatcher loop (publishing migration 0007): due now,
    so the first loop starts at the clusters' first scheduler pass. Recreated if a flushed
    database lost it."""
    from django_q.models import Schedule

    schedule, _ = Schedule.objects.update_or_create(
        name="publishing-dispatcher",
        defaults={
            "func": LOOP_TASK,
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    Schedule.objects.filter(pk=schedule.pk).update(next_run=timezone.now())


# --- The report ---------------------------------------------------------------------------------


@dataclass
class Report:
    client: str
    database: str
    broker: str
    targets: int
    clusters: int
    fault_rate: float
    calls: int = 0
    faults_injected: int = 0
    faults_by_kind: dict[str, int] = field(default_factory=dict)
    kills: int = 0
    published: int = 0
    failed: int = 0
    failed_reasons: list[tuple[str, int]] = field(default_factory=list)
    unconfirmed: int = 0
    cancelled: int = 0
    not_final: int = 0
    published_without_post: int = 0
    failed_but_posted: int = 0
    duplicates: int = 0
    extra_posts: int = 0
    elapsed_s: float = 0.0
    timed_out: bool = False  # chaos ended by the timeout, not by every target being final
    not_final_after_chaos: int = 0
    killed_mid_call: list[int] = field(default_factory=list)
    watchdog_kicks: int = 0
    # Dispatch lag (dispatched_at - due_at, seconds) of the targets dispatched once: p50, p99, max.
    lag_p50_s: float | None = None
    lag_p99_s: float | None = None
    lag_max_s: float | None = None
    lag_samples: int = 0
    log_dir: str = ""
    details: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.not_final + self.published_without_post

    @property
    def unconfirmed_pct(self) -> float:
        return 100.0 * self.unconfirmed / self.targets if self.targets else 0.0

    @property
    def throughput_per_min(self) -> float:
        return 60.0 * self.published / self.elapsed_s if self.elapsed_s else 0.0

    def problems(self) -> list[str]:
        found = []
        if self.duplicates:
            found.append(f"{self.duplicates} target(s) posted more than once")
        if self.lost:
            found.append(f"{self.lost} target(s) lost")
        if self.failed_but_posted:
            found.append(f"{self.failed_but_posted} target(s) failed although the post was made")
        if self.unconfirmed_pct > 1.0:
            found.append(f"{self.unconfirmed_pct:.1f} % unconfirmed (more than 1 %)")
        return found

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["failed_reasons"] = [{"reason": r, "count": n} for r, n in self.failed_reasons]
        data.update(
            lost=self.lost,
            unconfirmed_pct=round(self.unconfirmed_pct, 2),
            throughput_per_min=round(self.throughput_per_min, 1),
            elapsed_s=round(self.elapsed_s, 1),
            ok=not self.problems(),
            problems=self.problems(),
        )
        return data

    def lag_line(self) -> str:
        if not self.lag_samples:
            return "no target was dispatched once"
        return (
            f"p50 {self.lag_p50_s:.2f} s, p99 {self.lag_p99_s:.2f} s, max {self.lag_max_s:.2f} s "
            f"(due → dispatched, {self.lag_samples} targets dispatched once)"
        )

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.faults_by_kind.items()))
        out = [
            f"chaos run: {self.client} on {self.database} ({self.broker} broker), "
            f"{self.clusters} qcluster(s)",
            f"targets            {self.targets}",
            f"platform calls     {self.calls}",
            f"faults injected    {self.faults_injected}"
            + (f" ({kinds})" if kinds else "")
            + f" at a rate of {self.fault_rate:g}",
            f"workers killed     {self.kills}",
            f"dispatcher kicks   {self.watchdog_kicks}",
            f"published          {self.published}",
            f"failed             {self.failed}",
        ]
        out += [f"  {n:5d} × {reason}" for reason, n in self.failed_reasons]
        out += [
            f"unconfirmed        {self.unconfirmed} ({self.unconfirmed_pct:.1f} %)",
            f"cancelled          {self.cancelled}",
            f"duplicates         {self.duplicates}"
            + (f" ({self.extra_posts} extra posts)" if self.extra_posts else ""),
            f"lost               {self.lost} ({self.not_final} not final, "
            f"{self.published_without_post} published without a post)",
            f"failed but posted  {self.failed_but_posted}",
            f"elapsed            {self.elapsed_s:.1f} s"
            + (
                f" (chaos timed out with {self.not_final_after_chaos} not final; then drained)"
                if self.timed_out
                else ""
            ),
            f"throughput         {self.throughput_per_min:.1f} published/min",
            f"dispatch lag       {self.lag_line()}",
            f"logs               {self.log_dir}",
        ]
        if self.details:
            out.append("problem targets:")
            out += [f"  {line}" for line in self.details]
        problems = self.problems()
        out.append(
            "result             " + ("OK" if not problems else "FAIL: " + "; ".join(problems))
        )
        return out


def _describe(target: PublishTarget, posts: list[dict[str, Any]]) -> str:
    calls = [
        f"{c.step}:{c.outcome or 'unfinished'}"
        + (f"({c.error_code or c.http_status})" if c.outcome not in ("ok", "") else "")
        for c in target.calls.all()
    ]
    ledger = [f"{p['account']}/{p['source_ref']}/{p['post_id']}" for p in posts]
    return (
        f"target {target.pk} ({target.platform}, {target.state}: {target.state_reason[:80]}) "
        f"checkpoint={json.dumps(target.checkpoint, sort_keys=True)} "
        f"calls=[{', '.join(calls)}] ledger={ledger}"
    )


def collect(
    report: Report, seeded: Seeded, ledger: list[dict[str, Any]], faults: list[dict[str, Any]]
) -> None:
    targets = list(
        PublishTarget.objects.filter(crosspost__client=seeded.client).select_related("crosspost")
    )
    states = Counter(t.state for t in targets)
    report.published = states["published"]
    report.failed = states["failed"]
    report.unconfirmed = states["unconfirmed"]
    report.cancelled = states["cancelled"]
    report.not_final = sum(n for state, n in states.items() if state not in FINAL)
    reasons = Counter(
        (t.last_error_code or "-") + ": " + (t.last_error_message or t.state_reason)[:100]
        for t in targets
        if t.state == "failed"
    )
    report.failed_reasons = reasons.most_common(5)
    # A retried target is dispatched again from retry_wait (a new dispatched_at); its first
    # dispatch is what "on time" means, so the lag counts the targets dispatched once.
    lags = sorted(
        (t.dispatched_at - t.due_at).total_seconds()
        for t in targets
        if t.dispatched_at and t.due_at and t.attempts <= 1
    )
    if lags:
        report.lag_samples = len(lags)
        report.lag_p50_s = round(_quantile(lags, 0.50), 3)
        report.lag_p99_s = round(_quantile(lags, 0.99), 3)
        report.lag_max_s = round(lags[-1], 3)
    report.calls = (
        PublishAttempt.objects.filter(target__crosspost__client=seeded.client)
        .exclude(step="webhook")
        .count()
    )
    by_kind: Counter[str] = Counter()
    for rule in faults:
        by_kind[rule["_kind"]] += rule["hits"]
    report.faults_by_kind = dict(by_kind)
    report.faults_injected = sum(by_kind.values())

    keys = set(seeded.account_keys)
    posted: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entry in ledger:
        if entry["account"] in keys:
            posted[(entry["platform"], entry["caption"].strip())].append(entry)
    problem: list[PublishTarget] = []
    for target in targets:
        caption = target.crosspost.caption_for(target.platform).strip()
        posts = posted.get((target.platform, caption), [])
        if len(posts) > 1:
            report.duplicates += 1
            report.extra_posts += len(posts) - 1
            problem.append(target)
        elif target.state == "published" and not posts:
            report.published_without_post += 1
            problem.append(target)
        elif target.state == "failed" and posts:
            report.failed_but_posted += 1
            problem.append(target)
        elif target.state not in FINAL or target.state == "unconfirmed":
            problem.append(target)
    for target in problem[:12]:
        caption = target.crosspost.caption_for(target.platform).strip()
        report.details.append(_describe(target, posted.get((target.platform, caption), [])))


def _quantile(ordered: list[float], q: float) -> float:
    """The nearest-rank quantile of an ordered, non-empty list."""
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# --- The run ------------------------------------------------------------------------------------


def _progress(client: Client) -> Counter[str]:
    return Counter(
        dict(
            PublishTarget.objects.filter(crosspost__client=client)
            .values_list("state")
            .annotate(n=Count("pk"))
            .values_list("state", "n")
        )
    )


def run(plan: Plan, *, say: Callable[[str], None] = print) -> Report:
    """One chaos run; see the module's docstring."""
    problems = plan_problems(plan)
    if problems:
        raise ChaosError(" ".join(problems))
    refusal = database_refusal()
    if refusal:
        raise ChaosError(refusal)
    rng = random.Random(plan.seed)  # noqa: S311 - chaos, not security
    run_id = f"chaos{timezone.now():%m%d%H%M%S}{rng.randrange(16**3):03x}"
    port = plan.port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_dir = plan.log_dir or Path(tempfile.mkdtemp(prefix=f"{run_id}-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = Processes(child_env(base_url=base_url, queue=run_id), log_dir)
    sandbox = Sandbox(base_url)
    database = f"{connection.vendor} {connection.settings_dict['NAME']}"
    report = Report(
        client="",
        database=database,
        broker="Redis" if settings.REDIS_URL else "ORM",
        targets=plan.targets,
        clusters=plan.clusters,
        fault_rate=plan.fault_rate,
        log_dir=str(log_dir),
    )
    restore: dict[str, Any] = {}
    rule_ids: list[int] = []
    # Seeding makes hundreds of sandbox calls; their log lines would drown the progress.
    http_log = logging.getLogger("switchboard.http")
    http_level = http_log.level
    http_log.setLevel(logging.WARNING)
    with terminate_as_interrupt():
        try:
            web = processes.start_web(port)
            say(f"web: {base_url} (logs in {log_dir})")
            wait_until_up(sandbox, web)
            before = sandbox.api("GET", "/config")
            restore = {name: before[name] for name in SANDBOX_CONFIG}
            restore["tiktok_webhook_url"] = before["tiktok_webhook_url"]
            sandbox.api(
                "PATCH",
                "/config",
                {
                    **SANDBOX_CONFIG,
                    "tiktok_webhook_url": base_url + settings.WEBHOOK_PATHS["tiktok"],
                },
            )
            with override_settings(
                PUBLIC_BASE_URL=base_url, PLATFORM_BASE_URLS=_platform_urls(base_url)
            ):
                seeded = seed(plan, sandbox, run_id, say)
            report.client = seeded.client.name
            wake_dispatcher_schedule()
            for _ in range(plan.clusters):
                processes.start_cluster()
            rules = fault_rules(plan.fault_rate)
            for rule in rules:
                created = sandbox.api(
                    "POST", "/faults", {k: v for k, v in rule.items() if k != "_kind"}
                )
                rule["id"] = created["id"]
                rule_ids.append(created["id"])
            for endpoint, ms in plan.latency_ms.items():
                created = sandbox.api(
                    "POST", "/faults", {"endpoint": endpoint, "latency_ms": ms, "rate": 1.0}
                )
                rule_ids.append(created["id"])
            start = timezone.now() + timedelta(seconds=1)
            bring_forward(seeded.client, start=start, spread_s=plan.spread)
            say(
                f"started: {plan.clusters} qcluster(s), {len(rules)} fault rules, "
                f"{plan.targets} targets due over {plan.spread:g} s"
            )
            started = time.monotonic()
            watch = partial(
                _watch, plan, processes, seeded, report, rng, say, queue=run_id, started=started
            )
            done = watch(until=started + plan.timeout, chaos=True)
            _count_hits(sandbox, rules)
            _clean_sandbox(sandbox, rule_ids, {}, say)
            rule_ids = []
            if not done:
                # The storm is over: no more faults or kills. What waits (a rate limit's minute,
                # a lapsed lease) may still land; what is not final after the drain is lost.
                report.timed_out = True
                report.not_final_after_chaos = sum(
                    n for state, n in _progress(seeded.client).items() if state not in FINAL
                )
                say(
                    f"chaos over after {plan.timeout:g} s with {report.not_final_after_chaos} "
                    f"target(s) not final; draining for up to {plan.drain:g} s without faults "
                    "or kills"
                )
                done = watch(until=time.monotonic() + plan.drain, chaos=False)
            report.elapsed_s = time.monotonic() - started
            say(
                f"all {plan.targets} targets final after {report.elapsed_s:.1f} s"
                if done
                else f"gave up after {report.elapsed_s:.1f} s"
            )
            # Nothing in flight while the ledger is read; the sandbox reveals a TikTok post its
            # processing time after the bytes arrived.
            processes.stop_clusters()
            time.sleep(2)
            ledger = sandbox.api("GET", "/ledger")
            _clean_sandbox(sandbox, [], restore, say)
            restore = {}
            collect(report, seeded, ledger, rules)
            return report
        finally:
            if processes.web is not None and processes.web.running():
                _clean_sandbox(sandbox, rule_ids, restore, say)
            processes.stop()
            http_log.setLevel(http_level)


def _platform_urls(base_url: str) -> dict[str, str]:
    root = base_url + "/_emulator"
    return {
        "tiktok_auth": root + "/tiktok",
        "tiktok_api": root + "/tiktok-api",
        "instagram_auth": root + "/instagram",
        "instagram_api": root + "/instagram-api",
        "instagram_graph": root + "/instagram-graph",
    }


def _count_hits(sandbox: Sandbox, rules: list[dict[str, Any]]) -> None:
    hits = {f["id"]: f["hits"] for f in sandbox.api("GET", "/faults")["rules"]}
    for rule in rules:
        rule["hits"] = hits.get(rule["id"], 0)


def _clean_sandbox(
    sandbox: Sandbox, rule_ids: list[int], restore: dict[str, Any], say: Callable[[str], None]
) -> None:
    """Remove the run's fault rules and put back the sandbox settings it changed; what fails is
    said, not raised (the report, or the error that brought us here, matters more)."""
    calls: list[tuple[str, str, Any]] = [("DELETE", f"/faults/{pk}", None) for pk in rule_ids]
    if restore:
        calls.append(("PATCH", "/config", restore))
    for method, path, body in calls:
        try:
            sandbox.api(method, path, body)
        except (ChaosError, requests.RequestException) as error:
            say(f"warning: could not undo a sandbox change ({method} {path}): {error}")


def _watch(
    plan: Plan,
    processes: Processes,
    seeded: Seeded,
    report: Report,
    rng: random.Random,
    say: Callable[[str], None],
    *,
    queue: str,
    started: float,
    until: float,
    chaos: bool,
) -> bool:
    """Wait until every target is final (True) or `until` (time.monotonic()) has passed; kill
    workers meanwhile when `chaos`."""
    last_kick = -math.inf
    kill_every = plan.kill_every if chaos and not plan.kill_mid_call else 0
    next_kill = time.monotonic() + kill_every * rng.uniform(0.5, 1.5) if kill_every else math.inf
    next_report = time.monotonic() + 10
    killed_steps: set[str] = set()
    while True:
        now = time.monotonic()
        web = processes.web
        assert web is not None
        if not web.running():
            raise ChaosError("The web process died.\n" + web.tail())
        states = _progress(seeded.client)
        if sum(n for state, n in states.items() if state in FINAL) >= plan.targets:
            return True
        if now >= until:
            return False
        if plan.watchdog and now - last_kick >= WATCHDOG_EVERY_S:
            held = DispatcherLease.objects.filter(name=LOOP_NAME, until__gt=timezone.now()).exists()
            if not held:
                start_dispatcher_loop(queue)
                report.watchdog_kicks += 1
                last_kick = now
        if chaos and plan.kill_mid_call:
            waiting = set(plan.kill_mid_call) - killed_steps
            in_flight = list(
                PublishAttempt.objects.filter(
                    target__crosspost__client=seeded.client,
                    step__in=waiting,
                    finished_at__isnull=True,
                ).values_list("step", "target_id")
            )
            if in_flight:
                victim = processes.kill_cluster(rng)
                report.kills += 1
                for step, target_id in in_flight:
                    killed_steps.add(step)
                    report.killed_mid_call.append(target_id)
                say(f"killed {victim.name} during {', '.join(sorted({s for s, _ in in_flight}))}")
        elif now >= next_kill:
            processes.kill_cluster(rng)
            report.kills += 1
            next_kill = now + kill_every * rng.uniform(0.5, 1.5)
        if now >= next_report:
            next_report = now + 10
            say(
                f"t+{now - started:3.0f}s "
                + " ".join(f"{state} {n}" for state, n in sorted(states.items()))
                + f"; kills {report.kills}"
            )
        # Watching for a call in flight needs a quick eye; counting states does not (and its
        # queries compete with the run for the machine).
        time.sleep(0.25 if plan.kill_mid_call else 1.0)
