"""Two measurements of the audit log that `benchmark` (pages) does not make:

- `--writers N`: N concurrent writers (threads, or processes with `--processes`) append events
  through audit_record, one transaction each, for `--seconds`; prints events per second and the
  transaction latency, then verifies the chain over what they wrote. Every append takes the
  chain's lock, so this is the ceiling on audited writes however many workers publish.
- `--export-rows N`: streams the CSV export of the newest N events (all of them with 0) and
  prints the time, the peak of Python allocations (tracemalloc, a second pass) and the process's
  peak RSS.

Run it against a benchmark database (it appends events): see the README's Benchmark section.
"""

from __future__ import annotations

import multiprocessing
import resource
import statistics
import threading
import time
import tracemalloc
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections, transaction

from apps.audit.actions import AuditAction
from apps.audit.export import audit_csv_lines
from apps.audit.filters import AuditFilter
from apps.audit.models import AuditEvent
from apps.audit.selectors import audit_chain_walk
from apps.audit.services import audit_record


def _write_for(seconds: float, writer: int, per_transaction: int) -> list[float]:
    """Append events until the deadline; returns each transaction's latency (ms)."""
    latencies = []
    deadline = time.monotonic() + seconds
    i = 0
    try:
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            with transaction.atomic():
                for _ in range(per_transaction):
                    audit_record(
                        action=AuditAction.CLIENT_EDITED,
                        actor_label=f"bench-writer-{writer}",
                        target_label=f"write {i}",
                        data={"changes": {"notes": {"before": str(i), "after": str(i + 1)}}},
                    )
                    i += 1
            latencies.append((time.perf_counter() - t0) * 1000)
    finally:
        connections.close_all()
    return latencies


def _process_writer(args: tuple[float, int, int]) -> list[float]:
    return _write_for(*args)


class Command(BaseCommand):
    help = "Measure audited writes per second under concurrency, and the CSV export's memory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--writers", type=int, default=0)
        parser.add_argument("--seconds", type=float, default=20.0)
        parser.add_argument("--per-transaction", type=int, default=1)
        parser.add_argument("--processes", action="store_true", help="writers are processes")
        parser.add_argument("--export-rows", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["writers"] and options["export_rows"] is None:
            raise CommandError("Give --writers N and/or --export-rows N.")
        if options["writers"]:
            self._writes(
                options["writers"],
                options["seconds"],
                options["per_transaction"],
                options["processes"],
            )
        if options["export_rows"] is not None:
            self._export(options["export_rows"])

    def _writes(self, writers: int, seconds: float, per_tx: int, processes: bool) -> None:
        start = AuditEvent.objects.order_by("-id").values_list("id", "hash").first() or (0, None)
        jobs = [(seconds, n, per_tx) for n in range(writers)]
        t0 = time.perf_counter()
        if processes:
            connections.close_all()  # a forked child must not share the parent's connection
            with multiprocessing.get_context("fork").Pool(writers) as pool:
                results = pool.map(_process_writer, jobs)
        else:
            results = [[] for _ in jobs]

            def run(index: int) -> None:
                results[index] = _write_for(*jobs[index])

            threads = [threading.Thread(target=run, args=(n,)) for n in range(writers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        elapsed = time.perf_counter() - t0
        latencies = sorted(ms for result in results for ms in result)
        if not latencies:
            raise CommandError("No transaction finished.")
        events = len(latencies) * per_tx
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
        kind = "processes" if processes else "threads"
        self.stdout.write(
            f"{writers} writers ({kind}) on {connection.vendor}, {per_tx} event(s) a "
            f"transaction, {elapsed:.1f}s: {events} events, {events / elapsed:.0f} events/s, "
            f"{len(latencies) / elapsed:.0f} transactions/s; transaction p50 "
            f"{statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms"
        )
        after_id, expected = start
        if expected is not None:
            result = audit_chain_walk(after_id=after_id, expected_prev=expected)
            verdict = "OK" if result.ok else f"BROKEN at {result.broken_id}"
            self.stdout.write(f"chain over the new events: {result.checked} verified, {verdict}")

    def _export(self, rows: int) -> None:
        limit = rows or None

        def run() -> tuple[int, int]:
            written = size = 0
            lines = audit_csv_lines(scope=AuditEvent.objects.all(), f=AuditFilter(), limit=limit)
            for chunk in lines:
                written += chunk.count("\r\n")
                size += len(chunk)
            return written - 1, size

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        written, size = run()
        elapsed = time.perf_counter() - t0
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.stdout.write(
            f"export of {written} rows ({size / 1e6:.0f} MB of CSV) in {elapsed:.1f}s "
            f"({written / elapsed:.0f} rows/s); Python allocations peak {peak / 1e6:.1f} MB "
            f"(tracemalloc); process peak RSS {rss_after / 1024:.0f} MB "
            f"(was {rss_before / 1024:.0f} MB before the export)"
        )
