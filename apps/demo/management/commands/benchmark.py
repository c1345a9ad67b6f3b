"""Measure the console at agency scale: seed clients, accounts and audit events in bulk, then
time the pages people use all day and the audit chain verification.

By default it runs two scales one after the other — 500 clients / 1,000 accounts / 100k audit
events, then 5,000 / 10,000 / 2M — and prints, per page, the p50 at each scale and their ratio:
a page whose server time grows with the agency shows it there. The people grow with the agency
(one person per 25 clients), so a manager's or staff member's own book stays the same size and
only the admin, who sees every client, sees ten times more.

Run it against a database of its own (`scripts/benchmark` does): it refuses to touch a database
that already holds staff unless --force is given, and empties it between scales.
"""

from __future__ import annotations

import contextlib
import random
import statistics
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection, transaction
from django.test import Client as HttpClient
from django.utils import timezone

from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.selectors import audit_chain_verify
from apps.clients.access import clients_visible_to
from apps.clients.models import Client, ClientMembership
from apps.clients.tallies import CLIENTS_BY_STATUS
from apps.common import crypto
from apps.connections.models import Capability, Credential, LinkedAccount, State
from apps.connections.tallies import ACCOUNTS_BY_STATE
from apps.platforms.types import Platform
from apps.staff.models import Role, User

STATES = [State.ACTIVE] * 14 + [
    State.REFRESH_FAILING,
    State.NEEDS_RECONNECT,
    State.REVOKED_ON_PLATFORM,
    State.DISCONNECTED,
]


# (clients, audit events) — accounts are two per client. The reference points.
DEFAULT_SCALES = ((500, 100_000), (5_000, 2_000_000))
# Pages whose server time must not grow with the agency (ratio large/small at most this).
FLAT_PAGES = ("dashboard (admin)", "clients list (admin)", "health fragment (manager)")
FLAT_RATIO = 1.3


@dataclass(frozen=True)
class Timing:
    p50: float
    p95: float
    queries: int


def parse_scale(text: str) -> tuple[int, int]:
    try:
        clients, events = (int(part.replace("_", "").replace(",", "")) for part in text.split(":"))
    except ValueError as exc:
        raise CommandError(
            f"--scale takes CLIENTS:AUDIT_EVENTS, e.g. 5000:2000000 (got {text!r})"
        ) from exc
    if clients < 1 or events < 0:
        raise CommandError("--scale needs at least one client and no negative event count.")
    return clients, events


def _audit_pages(admin: User, mine: Client) -> dict[str, str]:
    """Every audit filter and page, for the seeded log (one kind of event, by the admin, spread
    evenly over a year across every client): filters that match every event and filters that
    match few or none, since each must be fast either way."""
    account = mine.linked_accounts.order_by("pk").first()
    assert account is not None
    month = (timezone.localdate() - timedelta(days=182)).replace(day=1)
    month_end = (month + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    event = AuditEvent.objects.filter(client=mine).order_by("-id").values_list("id", flat=True)[0]
    return {
        "audit log, one account": f"/audit/?account={account.pk}",
        "audit log, one person": f"/audit/?actor=user:{admin.pk}",
        "audit log, system actor": "/audit/?actor=system",
        "audit log, kind (all events)": "/audit/?group=clients",
        "audit log, kind (no event)": "/audit/?group=connections",
        "audit log, one month": f"/audit/?from={month}&to={month_end}",
        "audit log, text common": "/audit/?q=brand",
        "audit log, text rare": f"/audit/?q={mine.name.replace(' ', '+')}",
        "audit log, text + kind": f"/audit/?q={mine.name.replace(' ', '+')}&group=clients",
        "audit export, newest 1,000": "/audit/export.csv?limit=1000",
        "audit export, one client": f"/audit/export.csv?client={mine.pk}",
        "audit event page": f"/audit/{event}/",
        "client timeline": f"/audit/clients/{mine.slug}/",
        "account history": f"/audit/accounts/{account.pk}/",
        "client monthly report": f"/audit/clients/{mine.slug}/report/{month.year}-{month.month}/",
    }


def _sign_in(http: HttpClient, user: User) -> None:
    """Sign in and re-enter the password: the CSV export is a sensitive action (DESIGN §1).
    The seeded people have no password; one is set first (before the session, which a new
    password would end)."""
    if not user.has_usable_password():
        user.set_password("bench-password-not-secret")
        user.save(update_fields=["password"])
    http.force_login(user)
    response = http.post("/accounts/reauthenticate/", {"password": "bench-password-not-secret"})
    if response.status_code != 302:
        raise CommandError(f"could not reauthenticate {user}: {response.status_code}")


class Command(BaseCommand):
    help = "Seed data at scale and time the main pages (see the README's Benchmark section)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            action="append",
            metavar="CLIENTS:AUDIT_EVENTS",
            help="a scale to measure (repeat to compare; default 500:100000 and 5000:2000000)",
        )
        parser.add_argument("--clients", type=int, help="one scale: this many clients")
        parser.add_argument("--audit-events", type=int, default=1_000_000)
        parser.add_argument(
            "--staff", type=int, help="people at every scale (default: one per 25 clients)"
        )
        parser.add_argument("--repeat", type=int, default=15)
        parser.add_argument("--force", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.exists() and not options["force"]:
            raise CommandError("This database already has users; run on a fresh one or --force.")
        if options["scale"]:
            scales = [parse_scale(text) for text in options["scale"]]
        elif options["clients"]:
            scales = [(options["clients"], options["audit_events"])]
        else:
            scales = list(DEFAULT_SCALES)
        results: list[dict[str, Timing]] = []
        for index, (clients, events) in enumerate(scales):
            if index:
                # The next scale starts from an empty database, seeded the same way.
                call_command("flush", interactive=False, verbosity=0)
            staff = options["staff"] or max(10, clients // 25)
            self.stdout.write(
                f"\n=== {clients:,} clients, {staff:,} people, {events:,} audit events"
            )
            results.append(self._run_scale(clients, staff, events, options["repeat"]))
        if len(results) > 1:
            self._compare(scales, results)

    def _run_scale(
        self, clients: int, staff_count: int, events: int, repeat: int
    ) -> dict[str, Timing]:
        started = time.perf_counter()
        admin, manager, staff = self._seed_people(staff_count)
        self._seed_clients(clients, [manager, staff, *User.objects.all()[:50]])
        self._seed_audit(events, admin)
        # The bulk load went around the services that say when the kept counts change.
        CLIENTS_BY_STATUS.forget()
        ACCOUNTS_BY_STATE.forget()
        # A database in service is vacuumed and analysed by autovacuum; measure that state, not
        # the minute after a bulk load.
        with connection.cursor() as cursor:
            vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
            cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
            if vacuum:
                # and the bulk load's dirty pages written out now, not while pages are timed
                # (CHECKPOINT needs a superuser or pg_checkpoint; without, the writer catches up)
                with contextlib.suppress(DatabaseError):
                    cursor.execute("CHECKPOINT")
        self.stdout.write(
            f"seeded in {time.perf_counter() - started:.1f}s on {connection.vendor}: "
            f"{Client.objects.count()} clients, {LinkedAccount.objects.count()} "
            f"accounts, {AuditEvent.objects.count()} audit events"
        )
        timings: dict[str, Timing] = {}
        for label, user in (("admin", admin), ("manager", manager), ("staff", staff)):
            mine = clients_visible_to(user).order_by("pk").first()
            assert mine is not None
            pages = {
                "dashboard": "/",
                "clients list": "/clients/",
                "clients list, page 2": "/clients/?page=2",
                "clients search": "/clients/?q=brand+1",
                "client page": f"/clients/{mine.slug}/",
                "account page": f"/connections/{mine.linked_accounts.first().pk}/",  # type: ignore[union-attr]
                "audit log": "/audit/",
                "audit log, one client": f"/audit/?client={mine.pk}",
                "audit log, text search": "/audit/?q=brand+42",
                **_audit_pages(admin, mine),
                "health fragment": "/connections/health/",
            }
            http = HttpClient()
            _sign_in(http, user)
            for name, url in pages.items():
                if name.startswith("audit") and user.role == Role.STAFF:
                    continue
                key = f"{name} ({label})"
                timings[key] = self._time(http, key, url, repeat)
        t0 = time.perf_counter()
        result = audit_chain_verify()
        self.stdout.write(
            f"verify_audit_chain: {result.checked} events in {time.perf_counter() - t0:.1f}s "
            f"({'OK' if result.ok else 'BROKEN'})"
        )
        return timings

    def _compare(self, scales: list[tuple[int, int]], results: list[dict[str, Timing]]) -> None:
        first, last = results[0], results[-1]
        heads = "".join(f"  p50 @{clients:>6,}" for clients, _ in scales)
        self.stdout.write(f"\n{'page':42s}{heads}   ratio  queries")
        for name in first:
            cells = "".join(f"  {r[name].p50:8.1f} ms" for r in results)
            ratio = last[name].p50 / first[name].p50 if first[name].p50 else float("inf")
            flag = ""
            if name in FLAT_PAGES:
                flag = "  flat" if ratio <= FLAT_RATIO else f"  GROWS (> {FLAT_RATIO}x)"
            queries = " → ".join(str(r[name].queries) for r in results)
            self.stdout.write(f"{name:42s}{cells}  {ratio:5.2f}x  {queries}{flag}")

    def _time(self, http: HttpClient, name: str, url: str, repeat: int) -> Timing:
        http.get(url)  # warm up
        samples = []
        executed: list[str] = []

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            b"".join(http.get(url))
        for _ in range(repeat):
            t0 = time.perf_counter()
            response = http.get(url)
            b"".join(response)  # a streamed page (the CSV export) is timed to its last byte
            samples.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}")
        samples.sort()
        timing = Timing(
            p50=statistics.median(samples),
            p95=samples[min(len(samples) - 1, int(len(samples) * 0.95))],
            queries=len(executed),
        )
        self.stdout.write(
            f"{name:42s} p50 {timing.p50:7.1f} ms  p95 {timing.p95:7.1f} ms  "
            f"{timing.queries:3d} queries"
        )
        return timing

    def _seed_people(self, count: int) -> tuple[User, User, User]:
        users = [
            User(
                email=f"bench{i}@agency.example",
                name=f"Bench Person {i}",
                role=Role.MANAGER if i % 5 == 0 else Role.STAFF,
            )
            for i in range(count)
        ]
        for user in users:
            user.set_unusable_password()
        User.objects.bulk_create(users, batch_size=1000)
        admin = User.objects.create_user(
            "bench-admin@agency.example", None, name="Bench Admin", role=Role.ADMIN
        )
        manager = User.objects.get(email="bench0@agency.example")
        staff = User.objects.get(email="bench1@agency.example")
        return admin, manager, staff

    def _seed_clients(self, count: int, people: list[User]) -> None:
        rng = random.Random(7)  # noqa: S311 - reproducible test data, not secrets
        managers = list(User.objects.filter(role=Role.MANAGER))
        clients = [
            Client(
                name=f"Brand {i:05d}",
                slug=f"brand-{i:05d}",
                timezone="Europe/London",
                account_manager=rng.choice(managers),
            )
            for i in range(count)
        ]
        Client.objects.bulk_create(clients, batch_size=2000)
        clients = list(Client.objects.all())
        staff_pool = list(User.objects.filter(role=Role.STAFF))
        memberships = []
        for client in clients:
            for user in {client.account_manager, *rng.sample(staff_pool, 3)}:
                memberships.append(ClientMembership(client=client, user=user))
        ClientMembership.objects.bulk_create(memberships, batch_size=5000, ignore_conflicts=True)
        now = timezone.now()
        accounts = []
        for i, client in enumerate(clients):
            for platform in (Platform.TIKTOK, Platform.INSTAGRAM):
                state = rng.choice(STATES)
                # About 2 % have had no successful check for a day (stale).
                last_ok = now - (timedelta(days=2) if rng.random() < 0.02 else timedelta(hours=3))
                accounts.append(
                    LinkedAccount(
                        client=client,
                        platform=platform,
                        external_id=f"{platform}-{i}",
                        handle=f"{client.slug}.{platform}",
                        state=state,
                        state_changed_at=now - timedelta(minutes=rng.randrange(90 * 24 * 60)),
                        publish_capability=Capability.OK,
                        last_checked_at=last_ok,
                        last_ok_at=last_ok,
                        connected_at=now - timedelta(days=120),
                    )
                )
        LinkedAccount.objects.bulk_create(accounts, batch_size=2000)
        token = crypto.encrypt("bench-token")

        def days(low: int, high: int) -> timedelta:
            return timedelta(minutes=rng.randrange(low * 24 * 60, high * 24 * 60))

        credentials = []
        for account in LinkedAccount.objects.exclude(state=State.DISCONNECTED):
            # Lifetimes as the platforms grant and the sweep keeps them (PLATFORMS §1.3, §2.4):
            # about 3 % are inside their platform's expiry warning.
            soon = rng.random() < 0.03
            if account.platform == Platform.TIKTOK:
                access = now + timedelta(minutes=rng.randrange(60, 24 * 60))
                refresh = now + (days(1, 13) if soon else days(15, 365))
            else:
                access = now + (days(1, 9) if soon else days(15, 60))
                refresh = None
            credentials.append(
                Credential(
                    account=account,
                    access_token=token,
                    refresh_token=token if refresh else "",
                    access_expires_at=access,
                    refresh_expires_at=refresh,
                )
            )
        Credential.objects.bulk_create(credentials, batch_size=2000)

    def _seed_audit(self, count: int, actor: User) -> None:
        """Append `count` chained events in bulk (the same hashing as audit_record)."""
        client_ids = list(Client.objects.values_list("pk", "name"))
        prev = (
            AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
            or GENESIS_HASH
        )
        start = timezone.now() - timedelta(days=365)
        step = timedelta(days=365) / max(count, 1)
        batch: list[AuditEvent] = []
        for i in range(count):
            client_id, client_name = client_ids[i % len(client_ids)]
            event = AuditEvent(
                occurred_at=start + step * i,
                actor_id=actor.pk,
                actor_label=actor.label,
                action="client.edited",
                client_id=client_id,
                client_label=client_name,
                target_type="clients.client",
                target_id=str(client_id),
                target_label=client_name,
                data={"changes": {"notes": {"before": "", "after": f"n{i}"}}},
                prev_hash=prev,
            )
            event.hash = event.compute_hash()
            prev = event.hash
            batch.append(event)
            if len(batch) == 5000:
                with transaction.atomic():
                    AuditEvent.objects.bulk_create(batch)
                batch = []
        if batch:
            AuditEvent.objects.bulk_create(batch)
