"""`manage.py chaos` (apps/demo/chaos.py): the real publishing pipeline in real processes — a
web process serving the app and the sandbox, qcluster processes — while the sandbox fails a share
of the publishing calls and workers are SIGKILLed. Nothing may be posted twice or lost.

The runs share pytest's database with the processes they start, so they need PostgreSQL (the
SQLite test database lives in memory); in CI they run in the PostgreSQL pass. The option and
database checks run on both.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from apps.demo import chaos
from apps.publishing.models import PublishAttempt, PublishTarget
from tests.ops.processes import manage, production_env


@pytest.fixture
def postgres(transactional_db: None) -> None:
    """The processes a run starts read and write the test database: committed rows, and a
    database other processes can open."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "the chaos run's processes share the test database, which on SQLite is in memory; "
            "it runs against PostgreSQL (CI's PostgreSQL pass)"
        )


def test_a_chaos_run_posts_every_target_exactly_once(postgres: None, tmp_path: Path) -> None:
    """200 targets, 10 % of the sandbox's publishing calls failing, a random qcluster killed
    every ~10 s for up to 150 s (then up to 90 s without faults for what still waits, such as a
    rate limit's minute): every target ends final, none twice, none lost, at most 1 %
    unconfirmed."""
    out, err = io.StringIO(), io.StringIO()
    failure: CommandError | None = None
    try:
        call_command(
            "chaos",
            "--targets=200",
            "--fault-rate=0.1",
            "--clusters=2",
            "--kill-every=10",
            "--timeout=150",
            "--drain=90",
            "--json",
            f"--log-dir={tmp_path}",
            stdout=out,
            stderr=err,
        )
    except CommandError as error:
        failure = error
    assert out.getvalue(), f"no report: {failure}\n{err.getvalue()}"
    figures: dict[str, Any] = json.loads(out.getvalue())
    summary = json.dumps(figures, indent=1) + "\n" + err.getvalue()[-3000:]
    print(summary)
    assert figures["duplicates"] == 0, summary
    assert figures["lost"] == 0, summary
    assert figures["failed_but_posted"] == 0, summary
    assert figures["unconfirmed_pct"] <= 1.0, summary
    assert figures["kills"] >= 1, summary
    assert figures["faults_injected"] > 0, summary
    assert figures["published"] + figures["failed"] + figures["unconfirmed"] == 200, summary
    assert failure is None, summary


def test_a_worker_killed_mid_call_leaves_the_target_to_its_lease_and_one_post(
    postgres: None, tmp_path: Path
) -> None:
    """One qcluster; the sandbox holds TikTok's upload and Instagram's media_publish for 3 s,
    and the qcluster is SIGKILLed while each is in flight (the sandbox finishes the call: the
    bytes arrive, the reel is posted). After the lease the dispatcher hands each target out
    again; the next run reconciles from the checkpoint and each is posted exactly once."""
    plan = chaos.Plan(
        targets=2,
        fault_rate=0.0,
        clusters=1,
        kill_every=0,
        timeout=150,
        log_dir=tmp_path,
        kill_mid_call=("upload", "publish"),
        latency_ms={"tiktok.upload": 3000, "instagram.media_publish": 3000},
    )
    lines: list[str] = []
    report = chaos.run(plan, say=lines.append)
    summary = "\n".join([*lines, *report.lines()])
    print(summary)
    assert report.kills >= 1, summary
    assert not report.problems(), summary
    assert report.published == 2, summary
    assert report.killed_mid_call, summary
    for target in PublishTarget.objects.filter(pk__in=report.killed_mid_call):
        calls = list(target.calls.exclude(step="webhook"))
        summary += f"\ntarget {target.pk}: " + ", ".join(
            f"{c.step} {c.outcome or 'unfinished'} at {c.started_at:%H:%M:%S.%f}" for c in calls
        )
        # The killed run's call never finished; a later run, after the lease, took over (its
        # call may have been cut by the second kill: a webhook can settle the target too).
        cut = [c for c in calls if c.step in plan.kill_mid_call and c.finished_at is None]
        assert cut, summary
        later = [c for c in calls if c.started_at > cut[0].started_at]
        assert later, summary
        # Not before the killed run's lease (PUBLISH_LEASE_SECONDS) had run out.
        lease = int(chaos.FAST_RECOVERY["PUBLISH_LEASE_SECONDS"])
        assert (later[0].started_at - cut[0].started_at).total_seconds() >= lease - 1, summary
        assert target.state == "published", summary
    print(summary)
    # The one Instagram post was made by the killed call: the next run found the reel published
    # and never asked for a second media_publish.
    publishes = PublishAttempt.objects.filter(
        target__crosspost__client__name=report.client, step="publish"
    )
    if publishes.filter(finished_at__isnull=True).exists():
        assert publishes.count() == 1, summary


def test_an_in_memory_database_is_refused() -> None:
    """Other processes can't open an in-memory SQLite database: the command says so."""
    env = production_env(DATABASE_URL="sqlite://:memory:")
    result = manage("chaos", "--targets", "2", env=env, timeout=60)
    assert result.returncode != 0
    assert "in-memory SQLite database" in result.stderr, result.stderr
    assert "PostgreSQL or a SQLite file" in result.stderr


def test_the_pytest_sqlite_database_is_refused_in_process(db: None) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL test database is shareable (see the runs above)")
    with pytest.raises(CommandError, match="in-memory SQLite database"):
        call_command("chaos", "--targets=2", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--targets=3"], "even number"),
        (["--targets=0"], "even number"),
        (["--targets=many"], "invalid int value"),
        (["--fault-rate=1.5"], "--fault-rate must be between 0 and 0.5"),
        (["--fault-rate=-0.1"], "--fault-rate must be between 0 and 0.5"),
        (["--clusters=0"], "--clusters must be at least 1"),
        (["--kill-every=-1"], "--kill-every must be 0"),
        (["--kill-every=0.2"], "--kill-every must be 0"),
        (["--timeout=0"], "--timeout must be positive"),
        (["--drain=-1"], "--drain must not be negative"),
        (["--port=70000"], "--port must be a TCP port"),
        (["--spread=-1"], "--spread must not be negative"),
    ],
)
def test_malformed_options_are_refused(arguments: list[str], message: str) -> None:
    """Refused before anything starts (no database access, no process)."""
    with pytest.raises(CommandError, match=message):
        call_command("chaos", *arguments, stdout=io.StringIO(), stderr=io.StringIO())
