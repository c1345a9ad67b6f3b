"""The load test behind `manage.py loadtest`: staff who sign in through the form and browse a
running Switchboard over HTTP, one thread and one `requests.Session` each, as browsers would.

A client of our own pages, not of a platform: it uses requests directly rather than the
outbound seam (apps/common/http.py), which exists for calls to TikTok and Instagram.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests

SIGN_IN_PAGE = "sign-in page"
SIGN_IN = "sign in"
# The pages browsed after signing in, in the order each user goes round them.
PAGES = ("dashboard", "clients list", "client page", "account page", "health fragment")
FIXED_PATHS = {
    "dashboard": "/",
    "clients list": "/clients/",
    "health fragment": "/connections/health/",  # polled by the dashboard through htmx
}
ROWS = (SIGN_IN_PAGE, SIGN_IN, *PAGES)
LOGIN_PATH = "/accounts/login/"
TIMEOUT = 30.0

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_CLIENT_LINK = re.compile(r'href="(/clients/(?!new/)[\w-]+/)"')
_ACCOUNT_LINK = re.compile(r'href="(/connections/\d+/)"')


@dataclass
class PageStats:
    durations_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return len(self.durations_ms)

    def percentile(self, p: float) -> float | None:
        """Nearest-rank percentile of the response times, in milliseconds."""
        if not self.durations_ms:
            return None
        ordered = sorted(self.durations_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Results:
    pages: dict[str, PageStats] = field(default_factory=lambda: {r: PageStats() for r in ROWS})
    signed_in: int = 0
    sign_in_started: list[float] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, page: str, duration_ms: float, error: str | None = None) -> None:
        with self._lock:
            stats = self.pages[page]
            stats.durations_ms.append(duration_ms)
            if error:
                stats.errors[error] += 1

    def note(self, text: str) -> None:
        with self._lock:
            self.notes[text] += 1

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.pages.values())

    @property
    def errors(self) -> int:
        return sum(sum(s.errors.values()) for s in self.pages.values())


@dataclass(frozen=True)
class Plan:
    base_url: str
    emails: list[str]
    password: str
    duration_s: float
    rate: float  # requests per second per user, think time included
    ramp_up_s: float  # sign-ins are spread over this many seconds
    seed: int = 0


def run(plan: Plan) -> Results:
    """Start one thread per user; return when every user has finished browsing."""
    results = Results()
    started = time.monotonic()
    count = len(plan.emails)
    threads = [
        threading.Thread(
            target=_User(
                plan=plan,
                email=email,
                results=results,
                start_at=started + plan.ramp_up_s * index / max(count, 1),
                rng=random.Random(plan.seed * 100_003 + index),  # noqa: S311 - think times
            ).run,
            name=f"loadtest-{index}",
            daemon=True,
        )
        for index, email in enumerate(plan.emails)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.elapsed_s = time.monotonic() - started
    return results


@dataclass
class _User:
    plan: Plan
    email: str
    results: Results
    start_at: float
    rng: random.Random
    session: requests.Session = field(default_factory=requests.Session)
    paths: dict[str, str] = field(default_factory=dict)

    def run(self) -> None:
        time.sleep(max(0.0, self.start_at - time.monotonic()))
        try:
            if not self.sign_in():
                return
            deadline = time.monotonic() + self.plan.duration_s
            turn = self.rng.randrange(len(PAGES))
            while time.monotonic() < deadline:
                page = PAGES[turn % len(PAGES)]
                turn += 1
                began = time.monotonic()
                if not self.visit(page):
                    continue
                # About `rate` requests a second, with jitter so users don't march in step.
                pause = self.rng.uniform(0.5, 1.5) / self.plan.rate - (time.monotonic() - began)
                time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
        finally:
            self.session.close()

    # --- Signing in --------------------------------------------------------------------------

    def sign_in(self) -> bool:
        with self.results._lock:
            self.results.sign_in_started.append(time.monotonic())
        form = self.request(SIGN_IN_PAGE, "GET", LOGIN_PATH)
        if form is None:
            return False
        token = _CSRF.search(form.text)
        if token is None:
            self.results.record(SIGN_IN, 0.0, f"no sign-in form at {LOGIN_PATH}")
            return False
        answer = self.request(
            SIGN_IN,
            "POST",
            LOGIN_PATH,
            data={
                "csrfmiddlewaretoken": token.group(1),
                "login": self.email,
                "password": self.plan.password,
            },
            check=self._signed_in,
        )
        if answer is None:
            return False
        with self.results._lock:
            self.results.signed_in += 1
        return True

    @staticmethod
    def _signed_in(response: requests.Response) -> str | None:
        """allauth answers a good sign-in with a redirect away from /accounts/ and shows the
        form again (200) after a wrong email or password."""
        if response.status_code == 200:
            return "200: the sign-in form came back (wrong email or password?)"
        if response.is_redirect:
            target = urlsplit(response.headers.get("Location", "")).path
            if target.startswith("/accounts/"):
                return f"{response.status_code}: sent to {target} instead of the console"
        return None

    # --- Browsing ----------------------------------------------------------------------------

    def visit(self, page: str) -> bool:
        """GET one page; False when there is none to visit (no client or account)."""
        path = self.path_for(page)
        if path is None:
            return False
        headers = {"HX-Request": "true"} if page == "health fragment" else None
        self.request(page, "GET", path, headers=headers)
        return True

    def path_for(self, page: str) -> str | None:
        if page in FIXED_PATHS:
            return FIXED_PATHS[page]
        if page not in self.paths:
            self.paths[page] = self._discover(page) or ""
            if not self.paths[page]:
                self.results.note(f"users with no {page} to visit")
        return self.paths[page] or None

    def _discover(self, page: str) -> str | None:
        """A client page from the clients list, an account page from that client's page, as
        someone would click through (those visits count too)."""
        if page == "client page":
            found = self.request("clients list", "GET", FIXED_PATHS["clients list"])
            pattern = _CLIENT_LINK
        else:
            client_page = self.path_for("client page")
            found = self.request("client page", "GET", client_page) if client_page else None
            pattern = _ACCOUNT_LINK
        links = sorted(set(pattern.findall(found.text))) if found is not None else []
        return self.rng.choice(links) if links else None

    # --- One request -------------------------------------------------------------------------

    def request(
        self,
        page: str,
        method: str,
        path: str,
        *,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        check: Callable[[requests.Response], str | None] | None = None,
    ) -> requests.Response | None:
        """Make and time one request; record it. None (and an error) unless it succeeded."""
        url = urljoin(self.plan.base_url, path)
        headers = dict(headers or {})
        if method == "POST":
            # Browsers send it; Django's CSRF check requires it to match over https.
            parts = urlsplit(self.plan.base_url)
            headers["Origin"] = f"{parts.scheme}://{parts.netloc}"
        began = time.perf_counter()
        try:
            response = self.session.request(
                method, url, data=data, headers=headers, allow_redirects=False, timeout=TIMEOUT
            )
        except requests.RequestException as exc:
            elapsed = (time.perf_counter() - began) * 1000
            self.results.record(page, elapsed, f"{type(exc).__name__} on {method} {path}")
            return None
        elapsed = (time.perf_counter() - began) * 1000
        problem = _http_error(response, path) or (check(response) if check else None)
        self.results.record(page, elapsed, f"{problem} ({method} {path})" if problem else None)
        return None if problem else response


def _http_error(response: requests.Response, path: str) -> str | None:
    """Anything but 2xx and 3xx is an error, and so is being sent to sign in again."""
    if response.status_code >= 400:
        return f"{response.status_code} {response.reason}"
    location = urlsplit(response.headers.get("Location", "")).path
    if response.is_redirect and location == LOGIN_PATH and path != LOGIN_PATH:
        return f"{response.status_code}: signed out (sent to {LOGIN_PATH})"
    return None


def report(results: Results, plan: Plan) -> list[str]:
    """The lines `manage.py loadtest` prints."""
    lines = [
        f"{'page':18s} {'requests':>8s} {'errors':>7s} {'p50 ms':>9s} {'p95 ms':>9s} {'p99 ms':>9s}"
    ]

    def ms(value: float | None) -> str:
        return f"{value:9.1f}" if value is not None else f"{'-':>9s}"

    for row in ROWS:
        stats = results.pages[row]
        lines.append(
            f"{row:18s} {stats.requests:8d} {sum(stats.errors.values()):7d} "
            f"{ms(stats.percentile(50))} {ms(stats.percentile(95))} {ms(stats.percentile(99))}"
        )
    everything = PageStats(durations_ms=[d for s in results.pages.values() for d in s.durations_ms])
    lines.append(
        f"{'all':18s} {results.requests:8d} {results.errors:7d} {ms(everything.percentile(50))} "
        f"{ms(everything.percentile(95))} {ms(everything.percentile(99))}"
    )
    rate = results.requests / results.elapsed_s if results.elapsed_s else 0.0
    starts = sorted(results.sign_in_started)
    spread = starts[-1] - starts[0] if starts else 0.0
    lines += [
        f"signed in: {results.signed_in} of {len(plan.emails)} users; "
        f"sign-ins started over {spread:.2f} s",
        f"throughput: {rate:.1f} requests/s over {results.elapsed_s:.1f} s",
    ]
    if results.errors:
        lines.append("errors:")
        for row in ROWS:
            for error, count in results.pages[row].errors.most_common(5):
                lines.append(f"  {row}: {error} x{count}")
    for note, count in sorted(results.notes.items())[:10]:
        lines.append(f"note: {note}" + (f" x{count}" if count > 1 else ""))
    return lines
