"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Every page a test visits is checked with axe-core (the copy shipped in the axe-playwright-python
package; no CDN): right before the browser leaves a document, and once more on each page's last
document when the test ends. A serious or critical violation fails the test with the rule, the
element and axe's summary.

In CI (CI=true) a missing Chromium or Playwright is an error, never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.test import Client as DjangoClient

from tests.scheduling import ordinary_scheduling

# Playwright's sync API runs an event loop in this thread; Django's ORM would refuse to run next
# to it. The tests themselves are synchronous, so this is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# WCAG 2 A/AA and axe's best practices all run; these impacts fail a test.
AXE_FAILING_IMPACTS = ("serious", "critical")

# Added to every document before its own scripts (init scripts are not subject to the page's
# CSP). `beforeunload` fires before the browser asks for the next document, while this one is
# still live; the navigation request is then held (AxeAudit.watch) until the run has reported.
AXE_HOOKS = """
(() => {
  const impacts = __IMPACTS__;
  let last = Promise.resolve();
  window.__switchboardAxeCheck = () => {
    const run = last.then(() => window.axe.run(document, {resultTypes: ["violations"]}))
      .then((results) => results.violations
        .filter((v) => impacts.includes(v.impact))
        .map((v) => ({
          id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.map((n) => ({
            target: n.target.join(" "), summary: n.failureSummary || "",
          })),
        })));
    last = run.catch(() => null);
    return run;
  };
  window.addEventListener("beforeunload", () => {
    if (!location.href.startsWith("http") || !window.__switchboardAxeBegin) return;
    const url = location.href;
    window.__switchboardAxeBegin(url);
    window.__switchboardAxeCheck().then(
      (violations) => window.__switchboardAxeReport(url, violations, ""),
      (error) => window.__switchboardAxeReport(url, [], String(error)),
    );
  });
})();
""".replace("__IMPACTS__", json.dumps(AXE_FAILING_IMPACTS))


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"Browser tests must run in CI: {reason}")
    pytest.skip(reason)


@dataclass
class AxeViolation:
    url: str
    rule: str
    impact: str
    help: str
    target: str
    summary: str

    def describe(self) -> str:
        summary = " ".join(self.summary.split())
        return (
            f"{self.url}\n    {self.rule} ({self.impact}): {self.help}\n"
            f"    at {self.target}\n    {summary}"
        )


@dataclass
class AxeAudit:
    """Collects axe-core's serious and critical findings over one test's browser pages.

    Only Switchboard's own pages (those under `origin`, the live server) are judged; the tests'
    stand-in OAuth receivers are not ours to fix.
    """

    origin: str = "http"
    violations: list[AxeViolation] = field(default_factory=list)
    running: dict[Any, int] = field(default_factory=dict)  # frame -> axe runs not reported yet

    def record(self, url: str, found: list[dict[str, Any]], error: str = "") -> list[AxeViolation]:
        if not url.startswith(self.origin):
            return []
        if error:
            found = [{"id": "axe-error", "impact": "critical", "help": error, "nodes": []}]
        new = [
            AxeViolation(
                url=url,
                rule=v["id"],
                impact=v["impact"],
                help=v["help"],
                target=node["target"],
                summary=node["summary"],
            )
            for v in found
            for node in v["nodes"] or [{"target": "document", "summary": ""}]
        ]
        known = {(v.url, v.rule, v.target) for v in self.violations}
        self.violations += [v for v in new if (v.url, v.rule, v.target) not in known]
        return new

    def check(self, page: Any) -> list[AxeViolation]:
        """Run axe now on the document `page` shows."""
        if not page.url.startswith(self.origin):
            return []  # about:blank, a test's own receiver and the like
        found = page.evaluate("() => window.__switchboardAxeCheck()")
        return self.record(page.url, found)

    def watch(self, context: Any) -> None:
        """Check each document of `context` as the browser leaves it: its final state, htmx
        swaps included. The navigation waits until the run has reported, so the next page can
        neither race it nor be mistaken for it."""
        from axe_playwright_python.base import AXE_SCRIPT

        def begin(source: dict[str, Any], url: str) -> None:
            frame = source["frame"]
            self.running[frame] = self.running.get(frame, 0) + 1

        def report(source: dict[str, Any], url: str, found: Any, error: str) -> None:
            frame = source["frame"]
            self.running[frame] = max(0, self.running.get(frame, 0) - 1)
            self.record(url, found, error)

        def committed(frame: Any) -> None:
            # A run still going in the document just replaced will never report: don't wait on it.
            self.running.pop(frame, None)

        def on_route(route: Any, request: Any) -> None:
            if request.is_navigation_request():
                frame = request.frame
                # Evaluating in a frame whose navigation is held would hang; waiting doesn't.
                for _ in range(800):  # 20 s at most
                    if not self.running.get(frame):
                        break
                    frame.page.wait_for_timeout(25)
            route.fallback()

        context.add_init_script(AXE_SCRIPT + "\n" + AXE_HOOKS)
        context.expose_binding("__switchboardAxeBegin", begin)
        context.expose_binding("__switchboardAxeReport", report)
        context.route("**/*", on_route)
        context.on("page", lambda page: page.on("framenavigated", committed))

    def report(self) -> str:
        lines = [v.describe() for v in self.violations]
        return (
            f"axe-core found {len(self.violations)} serious or critical accessibility "
            "violation(s):\n  " + "\n  ".join(lines)
        )


def assert_accessible(page: Any) -> None:
    """Check the page as it is now (e.g. after an htmx swap or opening the menu); the page must
    come from the `page` or `new_context` fixtures, which load axe-core into every document."""
    found = AxeAudit().check(page)
    assert not found, AxeAudit(violations=found).report()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the machine
        _unavailable("playwright is not installed")
    if not os.path.exists(CHROMIUM):
        _unavailable(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    ordinary_scheduling()  # the driver and Chromium inherit our policy (tests/scheduling.py)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def axe_audit(live_server: Any) -> AxeAudit:
    return AxeAudit(origin=live_server.url)


@pytest.fixture
def new_context(browser: Any, live_server: Any, axe_audit: AxeAudit) -> Iterator[Any]:
    """A factory of fresh browser contexts (separate cookie jars) on the live server, each
    watched by axe-core; the test fails on any serious or critical violation."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        options.setdefault("viewport", {"width": 1280, "height": 860})
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(10_000)
        axe_audit.watch(context)
        contexts.append(context)
        return context

    yield make
    try:
        # The last document of each page was never left: judge it as the test left it.
        for context in contexts:
            for page in context.pages:
                try:
                    axe_audit.check(page)
                except Exception as error:  # a page left mid-navigation by a failed test
                    if "context was destroyed" not in str(error):
                        raise
    finally:
        for context in contexts:
            context.close()
    if axe_audit.violations:
        pytest.fail(axe_audit.report(), pytrace=False)


@pytest.fixture
def page(new_context: Any) -> Any:
    return new_context().new_page()


def sign_in_as(page: Any, user: Any, live_server: Any) -> None:
    """Put a signed-in session for `user` into the page's context, skipping the login form."""
    client = DjangoClient()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )
