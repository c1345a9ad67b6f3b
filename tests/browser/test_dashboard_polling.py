"""The dashboard's health panel polls only while someone can see it, and less often while nothing
changes (static/js/app.js, data-poll): hundreds of forgotten tabs must not keep the server busy.

The intervals are shortened through the settings (HEALTH_POLL_INTERVAL 0.2 s, at most 1.6 s);
a hidden tab is emulated by overriding document.hidden / visibilityState and firing
visibilitychange, as the browser does when a tab goes to the background.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.connections.models import State
from tests.browser.conftest import sign_in_as
from tests.factories import LinkedAccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVERY_MS, MAX_MS = 200, 1600
HEALTH = "/connections/health/"

# Before the page's own scripts: a timeline of the panel's requests, answers and swaps (ms).
TIMELINE = """
window.__polls = [];
for (const [name, kind] of [["htmx:beforeRequest", "asked"], ["htmx:afterRequest", "answered"],
                            ["htmx:afterSwap", "swapped"]]) {
  document.addEventListener(name, (event) => {
    const path = event.detail.pathInfo && event.detail.pathInfo.requestPath;
    if (path && path.startsWith("/connections/health/")) {
      window.__polls.push({kind, at: performance.now()});
    }
  });
}
"""

SET_VISIBILITY = """(hidden) => {
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  Object.defineProperty(document, "visibilityState", {
    configurable: true, get: () => (hidden ? "hidden" : "visible"),
  });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


@pytest.fixture
def dashboard(settings, page, live_server, staff_member, client_obj) -> Iterator[Any]:
    settings.HEALTH_POLL_INTERVAL = EVERY_MS / 1000
    settings.HEALTH_POLL_MAX_INTERVAL = MAX_MS / 1000
    LinkedAccountFactory(client=client_obj, state=State.ACTIVE)
    page.add_init_script(TIMELINE)
    sign_in_as(page, staff_member, live_server)
    page.goto("/")
    yield page
    # Stop the polling and let a request on its way finish before the database is emptied: a
    # request still running in the live server during the flush broke SQLite's shared test
    # connection (FOREIGN KEY constraint failed at teardown).
    page.evaluate(SET_VISIBILITY, True)
    page.wait_for_function(
        """() => {
          const count = (kind) => window.__polls.filter(e => e.kind === kind).length;
          return count("asked") === count("answered");
        }""",
        timeout=30_000,
    )


def timeline(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("() => window.__polls")


def waits_after_answers(events: list[dict[str, Any]]) -> list[tuple[float, bool]]:
    """(ms from an answer to the next request, whether that answer was swapped in)."""
    waits = []
    answered_at, swapped = None, False
    for event in events:
        if event["kind"] == "swapped":
            swapped = True
        elif event["kind"] == "answered":
            answered_at = event["at"]
        elif event["kind"] == "asked" and answered_at is not None:
            waits.append((event["at"] - answered_at, swapped))
            answered_at, swapped = None, False
    return waits


def asked(page: Any, count: int) -> None:
    """Wait until the panel has been asked for `count` times (a busy machine answers slowly)."""
    page.wait_for_function(
        f"() => window.__polls.filter(e => e.kind === 'asked').length >= {count}",
        timeout=60_000,
    )


def a_wait_of(want: int, wait: float) -> bool:
    # Timers never fire early (a few ms of rounding aside); a late one stays below the next step.
    return want - 20 <= wait < 2 * want - 20


def test_the_wait_doubles_while_nothing_changes_and_resets_on_a_change(dashboard, client_obj):
    page = dashboard
    asked(page, 6)
    waits = [round(ms) for ms, _ in waits_after_answers(timeline(page))][:5]
    # The first answer differs from nothing; then each identical answer doubles the wait.
    expected = [EVERY_MS, 2 * EVERY_MS, 4 * EVERY_MS, MAX_MS, MAX_MS]
    assert all(map(a_wait_of, expected, waits)), (waits, expected)
    assert page.locator("#health-panel").count() == 1

    LinkedAccountFactory(client=client_obj, state=State.NEEDS_RECONNECT, handle="changed")
    page.get_by_test_id("needs-attention").wait_for(timeout=30_000)
    asked(page, len([e for e in timeline(page) if e["kind"] == "asked"]) + 1)
    after_change = [ms for ms, swapped in waits_after_answers(timeline(page)) if swapped][-1]
    assert a_wait_of(EVERY_MS, after_change), after_change


def test_a_hidden_tab_asks_nothing_until_it_is_shown_again(dashboard):
    page = dashboard
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.wait_for_function("() => window.__polls.some(e => e.kind === 'answered')")

    page.evaluate(SET_VISIBILITY, True)
    page.wait_for_function(  # a request already on its way is still answered
        "() => window.__polls.at(-1).kind === 'answered'", timeout=30_000
    )
    while_hidden = len([url for url in requests if HEALTH in url])
    page.wait_for_timeout(2 * MAX_MS + 500)  # longer than the longest wait, twice
    assert len([url for url in requests if HEALTH in url]) == while_hidden

    page.evaluate(SET_VISIBILITY, False)  # shown again: asks at once, not after the long wait
    for _ in range(MAX_MS // 100):
        page.wait_for_timeout(100)
        if len([url for url in requests if HEALTH in url]) > while_hidden:
            break
    assert len([url for url in requests if HEALTH in url]) > while_hidden
