"""Chaos-test the publishing pipeline: real web and worker processes, sandbox faults, workers
SIGKILLed at random; then count what was published, failed, unconfirmed, posted twice or lost.

    manage.py chaos [--targets 200] [--fault-rate 0.1] [--clusters 2] [--kill-every 5]
                    [--spread 20] [--timeout 600] [--drain 120] [--port PORT] [--seed N] [--json]

Runs against the database the settings point at (PostgreSQL or a SQLite file, migrated with the
sandbox installed); stop other workers on that database first. See apps/demo/chaos.py. Exits
non-zero when a target was posted twice, was lost, or more than 1 % ended unconfirmed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.demo import chaos


class Command(BaseCommand):
    help = "Publish N targets through the real pipeline while the sandbox fails and workers die."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--targets", type=int, default=200, help="targets, even (200)")
        parser.add_argument(
            "--fault-rate",
            type=float,
            default=0.10,
            help="share of the sandbox's publishing calls that fail (0.10)",
        )
        parser.add_argument("--clusters", type=int, default=2, help="qcluster processes (2)")
        parser.add_argument(
            "--kill-every",
            type=float,
            default=5.0,
            help="seconds between SIGKILLs of a random qcluster, on average; 0: none (5)",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=600.0,
            help="seconds of chaos at most; then faults and kills stop (600)",
        )
        parser.add_argument(
            "--drain",
            type=float,
            default=120.0,
            help="seconds then given to targets still on their way; what isn't final is lost (120)",
        )
        parser.add_argument(
            "--spread",
            type=float,
            default=chaos.DUE_SPREAD_S,
            help="seconds over which the targets fall due (20); the dispatch lag is measured "
            "from these due times",
        )
        parser.add_argument("--port", type=int, default=0, help="web port (a free one)")
        parser.add_argument("--seed", type=int, default=None, help="randomness of the kills")
        parser.add_argument(
            "--no-watchdog",
            action="store_true",
            help="leave starting dispatcher loops to the minute schedule alone",
        )
        parser.add_argument("--log-dir", default="", help="process logs (a temporary folder)")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        plan = chaos.Plan(
            targets=options["targets"],
            fault_rate=options["fault_rate"],
            clusters=options["clusters"],
            kill_every=options["kill_every"],
            timeout=options["timeout"],
            drain=options["drain"],
            port=options["port"],
            seed=options["seed"],
            log_dir=Path(options["log_dir"]) if options["log_dir"] else None,
            watchdog=not options["no_watchdog"],
            spread=options["spread"],
        )

        def say(line: str) -> None:
            # Progress goes to stderr, so that --json leaves stdout to the figures.
            self.stderr.write(line)
            self.stderr.flush()

        try:
            report = chaos.run(plan, say=say)
        except chaos.ChaosError as error:
            raise CommandError(str(error)) from None
        except KeyboardInterrupt:
            raise CommandError("Interrupted; every process the run started was stopped.") from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, default=str))
        else:
            for line in report.lines():
                self.stdout.write(line)
        problems = report.problems()
        if problems:
            # The report is printed above; the exit status says the run failed.
            raise CommandError("Chaos run failed: " + "; ".join(problems))
