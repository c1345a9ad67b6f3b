"""Queue a heartbeat and wait until the worker has run it (scripts/run, before printing the URL).

The scheduler's first round, and with it the scheduled heartbeat, comes about 30 s after the
worker starts; until then /healthz rightly answers 503. A heartbeat queued as a plain task is run
as soon as the worker polls the queue, and proves the worker runs tasks.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.common.jobs import enqueue
from apps.common.models import WorkerHeartbeat


class Command(BaseCommand):
    help = "Queue a worker heartbeat and wait (at most --timeout seconds) until it has run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")

    def handle(self, *args: Any, **options: Any) -> None:
        queued_at = timezone.now()
        enqueue("apps.common.tasks.heartbeat")
        beats = WorkerHeartbeat.objects.filter(
            cluster=str(settings.Q_CLUSTER["name"]), beat_at__gte=queued_at
        )
        deadline = time.monotonic() + options["timeout"]
        while not beats.exists():
            if time.monotonic() >= deadline:
                raise CommandError(
                    f"The worker has not run its heartbeat within {options['timeout']:g} s."
                )
            time.sleep(0.2)
        self.stdout.write("The worker is running.")
