"""Measure the console at agency scale: seed clients, accounts and audit events in bulk, then
time the pages people use all day and the audit chain verification.

Run it against a database of its own (`scripts/benchmark` does): it refuses to touch a database
that already holds staff unless --force is given.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test import Client as HttpClient
from django.utils import timezone

from apps.audit.models import GENESIS_HASH, AuditEvent
from apps.audit.selectors import audit_chain_verify
from apps.clients.access import clients_visible_to
from apps.clients.models import Client, ClientMembership
from apps.common import crypto
from apps.connections.models import Capability, Credential, LinkedAccount, State
from apps.staff.models import Role, User

STATES = [State.ACTIVE] * 14 + [
    State.REFRESH_FAILING,
    State.NEEDS_RECONNECT,
    State.REVOKED_ON_PLATFORM,
    State.DISCONNECTED,
]


class Command(BaseCommand):
    help = "Seed data at scale and time the main pages (see the README's Benchmark section)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=3000)
        parser.add_argument("--staff", type=int, default=120)
        parser.add_argument("--audit-events", type=int, default=1_000_000)
        parser.add_argument("--repeat", type=int, default=15)
        parser.add_argument("--force", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.exists() and not options["force"]:
            raise CommandError("This database already has users; run on a fresh one or --force.")
        started = time.perf_counter()
        admin, manager, staff = self._seed_people(options["staff"])
        self._seed_clients(options["clients"], [manager, staff, *User.objects.all()[:50]])
        self._seed_audit(options["audit_events"], admin)
        self.stdout.write(
            f"seeded in {time.perf_counter() - started:.1f}s on {connection.vendor}: "
            f"{Client.objects.count()} clients, {LinkedAccount.objects.count()} "
            f"accounts, {AuditEvent.objects.count()} audit events"
        )
        for label, user in (("admin", admin), ("manager", manager), ("staff", staff)):
            mine = clients_visible_to(user).order_by("pk").first()
            assert mine is not None
            pages = {
                "dashboard": "/",
                "clients list": "/clients/",
                "clients search": "/clients/?q=brand+1",
                "client page": f"/clients/{mine.slug}/",
                "account page": f"/connections/{mine.linked_accounts.first().pk}/",  # type: ignore[union-attr]
                "audit log": "/audit/",
                "audit log, one client": f"/audit/?client={mine.pk}",
                "audit log, text search": "/audit/?q=brand+42",
                "health fragment": "/connections/health/",
            }
            http = HttpClient()
            http.force_login(user)
            for name, url in pages.items():
                if name.startswith("audit") and user.role == Role.STAFF:
                    continue
                self._time(http, f"{name} ({label})", url, options["repeat"])
        t0 = time.perf_counter()
        result = audit_chain_verify()
        self.stdout.write(
            f"verify_audit_chain: {result.checked} events in {time.perf_counter() - t0:.1f}s "
            f"({'OK' if result.ok else 'BROKEN'})"
        )

    def _time(self, http: HttpClient, name: str, url: str, repeat: int) -> None:
        http.get(url)  # warm up
        samples = []
        executed: list[str] = []

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            http.get(url)
        for _ in range(repeat):
            t0 = time.perf_counter()
            response = http.get(url)
            samples.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}")
        samples.sort()
        p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
        self.stdout.write(
            f"{name:40s} p50 {statistics.median(samples):7.1f} ms  p95 {p95:7.1f} ms  "
            f"{len(executed):3d} queries"
        )

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
            for platform in ("tiktok", "instagram"):
                state = rng.choice(STATES)
                accounts.append(
                    LinkedAccount(
                        client=client,
                        platform=platform,
                        external_id=f"{platform}-{i}",
                        handle=f"{client.slug}.{platform}",
                        state=state,
                        publish_capability=Capability.OK,
                        last_checked_at=now,
                        last_ok_at=now,
                        connected_at=now - timedelta(days=30),
                    )
                )
        LinkedAccount.objects.bulk_create(accounts, batch_size=2000)
        token = crypto.encrypt("bench-token")
        Credential.objects.bulk_create(
            [
                Credential(
                    account=a,
                    access_token=token,
                    refresh_token=token,
                    access_expires_at=now + timedelta(hours=20),
                    refresh_expires_at=now + timedelta(days=200),
                )
                for a in LinkedAccount.objects.exclude(state=State.DISCONNECTED)
            ],
            batch_size=2000,
        )

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
