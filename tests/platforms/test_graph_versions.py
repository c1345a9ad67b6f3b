"""The Graph API version table and the system check that warns before a sunset (PLATFORMS §2.1)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import checks

from apps.platforms.checks import (
    UNKNOWN_VERSION,
    VERSION_NEAR_SUNSET,
    VERSION_PAST_SUNSET,
    instagram_graph_version,
)
from apps.platforms.instagram import graph_versions

ROOT = Path(__file__).resolve().parents[2]


def _at(day: date) -> time_machine.travel:
    """Noon UTC on `day`."""
    return time_machine.travel(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), tick=False)


def _ids(messages: list[checks.CheckMessage]) -> list[str | None]:
    return [message.id for message in messages]


def test_the_table_has_the_dates_platforms_md_names() -> None:
    # §2.1: v23.0 is served until 2027-10-08; newest v27.0 (no date published yet).
    assert graph_versions.sunset("v23.0") == date(2027, 10, 8)
    assert graph_versions.is_known("v27.0") and graph_versions.sunset("v27.0") is None


def _default_graph_version() -> str:
    """config/settings.py's own default, read in a fresh interpreter without the variable (the
    `settings` fixture here pins another one, and an operator's environment may set it)."""
    env = {k: v for k, v in os.environ.items() if k != "INSTAGRAM_GRAPH_VERSION"}
    env.update({"DEBUG": "1", "SWITCHBOARD_ENV_FILE": ""})
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from config import settings; print(settings.INSTAGRAM_GRAPH_VERSION)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_the_default_version_is_current_with_a_known_sunset_far_ahead() -> None:
    default = _default_graph_version()
    assert default == graph_versions.RECOMMENDED
    assert int(default.removeprefix("v").split(".")[0]) >= 25
    sunset = graph_versions.sunset(default)
    assert sunset is not None and sunset > date(2026, 11, 30) + timedelta(days=365)


def test_sunsets_follow_meta_two_year_rule() -> None:
    # Each dated version expires two years after the next one's release; as a sanity check on
    # the data, sunsets increase with the version and are at most ~9 months apart.
    dated = [(v, d) for v, d in graph_versions.SUNSETS.items() if d is not None]
    assert dated == sorted(dated, key=lambda item: float(item[0].removeprefix("v")))
    assert all(a[1] < b[1] <= a[1] + timedelta(days=270) for a, b in itertools.pairwise(dated))


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2027, 7, 9), []),  # 91 days before v23.0's sunset
        (date(2027, 7, 10), [VERSION_NEAR_SUNSET]),  # 90 days before
        (date(2027, 10, 7), [VERSION_NEAR_SUNSET]),  # the last day it is served
        (date(2027, 10, 8), [VERSION_PAST_SUNSET]),  # the sunset itself
        (date(2029, 1, 1), [VERSION_PAST_SUNSET]),
    ],
)
def test_it_warns_within_90_days_of_the_sunset_and_after_it(
    settings: Any, today: date, expected: list[str]
) -> None:
    settings.INSTAGRAM_GRAPH_VERSION = "v23.0"

    with _at(today):
        messages = instagram_graph_version()

    assert _ids(messages) == expected
    assert all(isinstance(m, checks.Warning) for m in messages)
    if expected:
        assert "2027-10-08" in messages[0].msg and "v25.0" in (messages[0].hint or "")


def test_it_counts_the_days_left(settings: Any) -> None:
    settings.INSTAGRAM_GRAPH_VERSION = "v23.0"

    with _at(date(2027, 10, 7)):
        [message] = instagram_graph_version()

    assert "in 1 day." in message.msg


@pytest.mark.parametrize("version", ["v99.0", "25.0", "v25", ""])
def test_it_warns_about_a_version_it_does_not_know(settings: Any, version: str) -> None:
    settings.INSTAGRAM_GRAPH_VERSION = version

    with _at(date(2026, 11, 30)):
        assert _ids(instagram_graph_version()) == [UNKNOWN_VERSION]


@pytest.mark.parametrize("version", ["v26.0", "v27.0"])
def test_it_stays_quiet_for_a_version_without_a_known_sunset(settings: Any, version: str) -> None:
    settings.INSTAGRAM_GRAPH_VERSION = version

    with _at(date(2035, 1, 1)):
        assert instagram_graph_version() == []


def test_the_check_is_registered_and_runs_with_manage_py_check(settings: Any) -> None:
    settings.INSTAGRAM_GRAPH_VERSION = "v19.0"

    with _at(date(2026, 11, 30)):
        messages = checks.run_checks(tags=[checks.Tags.compatibility])

    assert VERSION_PAST_SUNSET in _ids(messages)
