"""Load-test a running Switchboard: N staff sign in through the form and browse for a while;
print each page's requests, errors and p50/p95/p99, and the overall requests per second.

    manage.py loadtest --base-url http://127.0.0.1:8000 --users 20 --duration 60 [--burst]

The staff are loadtest-000@loadtest.invalid, loadtest-001@…; --create-users makes them (with
--password, on client teams) in the database this command is connected to, which should be the
one the server uses. That refuses outside the demo and benchmark databases unless --force.
Exits non-zero when any request failed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.clients import services as client_services
from apps.clients.models import Client
from apps.demo import loadtest
from apps.staff.models import Role, User

DEFAULT_PASSWORD = "switchboard-loadtest"
TEAMS_PER_USER = 3


def loadtest_email(index: int) -> str:
    # .invalid never resolves (RFC 2606): no email to these users can go anywhere.
    return f"loadtest-{index:03d}@loadtest.invalid"


class Command(BaseCommand):
    help = "Sign in N staff and browse a running Switchboard; print latency percentiles."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--users", type=int, default=10, help="staff signing in (10)")
        parser.add_argument("--duration", type=float, default=60.0, help="seconds each (60)")
        parser.add_argument(
            "--rate", type=float, default=1.2, help="requests a second per user (1.2)"
        )
        parser.add_argument(
            "--ramp-up", type=float, default=10.0, help="seconds the sign-ins are spread over"
        )
        parser.add_argument(
            "--burst", action="store_true", help="all users sign in within one second"
        )
        parser.add_argument("--password", default=DEFAULT_PASSWORD)
        parser.add_argument(
            "--create-users",
            action="store_true",
            help="create or reset the load-test staff and put them on client teams first",
        )
        parser.add_argument(
            "--force", action="store_true", help="allow --create-users outside the demo"
        )
        parser.add_argument("--seed", type=int, default=0, help="think-time randomness")

    def handle(self, *args: Any, **options: Any) -> None:
        count = options["users"]
        if count < 1 or options["duration"] <= 0 or options["rate"] <= 0:
            raise CommandError("--users, --duration and --rate must be positive.")
        emails = [loadtest_email(i) for i in range(count)]
        if options["create_users"]:
            self._create_users(emails, password=options["password"], force=options["force"])
        plan = loadtest.Plan(
            base_url=options["base_url"].rstrip("/") + "/",
            emails=emails,
            password=options["password"],
            duration_s=options["duration"],
            rate=options["rate"],
            ramp_up_s=1.0 if options["burst"] else max(0.0, options["ramp_up"]),
            seed=options["seed"],
        )
        self.stdout.write(
            f"loadtest: {count} users on {plan.base_url}, {plan.duration_s:g} s each at about "
            f"{plan.rate:g} requests/s, sign-ins over {plan.ramp_up_s:g} s"
            + (" (burst)" if options["burst"] else "")
        )
        results = loadtest.run(plan)
        for line in loadtest.report(results, plan):
            self.stdout.write(line)
        if results.errors:
            raise CommandError(f"{results.errors} of {results.requests} requests failed.")

    def _create_users(self, emails: list[str], *, password: str, force: bool) -> None:
        if not (settings.DEMO or force):
            raise CommandError(
                "--create-users writes staff with a known password into this database; it runs "
                "on the demo and benchmark databases (SWITCHBOARD_DEMO=1) only, unless --force."
            )
        clients = list(Client.objects.filter(status=Client.Status.ACTIVE).order_by("pk"))
        if not clients:
            raise CommandError("There are no active clients to put the load-test staff on.")
        # One hash for everyone: these are throwaway accounts with a published password, and
        # hashing it per user would cost ~0.3 s each.
        encoded = make_password(password)
        actor = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
        with transaction.atomic():
            for index, email in enumerate(emails):
                user, _ = User.objects.update_or_create(
                    email=email,
                    defaults={
                        "name": f"Load Test {index:03d}",
                        "role": Role.STAFF,
                        "is_active": True,
                        "password": encoded,
                    },
                )
                for k in range(min(TEAMS_PER_USER, len(clients))):
                    client_services.client_membership_add(
                        actor=actor or user, client=clients[(index + k) % len(clients)], user=user
                    )
        self.stdout.write(
            f"Load-test staff ready: {len(emails)} (password {password!r}), each on "
            f"{min(TEAMS_PER_USER, len(clients))} of {len(clients)} client teams."
        )
