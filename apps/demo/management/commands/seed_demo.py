"""Seed the demo agency once (idempotent): staff of every role and five clients with teams."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.clients import services as client_services
from apps.staff.models import Role, User

DEMO_PASSWORD = "switchboard-demo"

STAFF = [
    ("Alex Morgan", "admin@northstar.example", Role.ADMIN),
    ("Priya Shah", "priya@northstar.example", Role.MANAGER),
    ("Leo Martins", "leo@northstar.example", Role.STAFF),
    ("Mai Tanaka", "mai@northstar.example", Role.STAFF),
]

# name, timezone, account manager email, team emails, notes
CLIENTS = [
    (
        "Bluebird Bakery",
        "Europe/London",
        "priya@northstar.example",
        ["leo@northstar.example"],
        "Family bakery chain, 6 shops. Posts go out before 8am.",
    ),
    (
        "Cedar & Pine Outfitters",
        "America/Denver",
        "priya@northstar.example",
        ["leo@northstar.example", "mai@northstar.example"],
        "Outdoor gear. Launch season in March.",
    ),
    (
        "Harbor Lights Hotel",
        "Australia/Sydney",
        "admin@northstar.example",
        ["mai@northstar.example"],
        "Boutique hotel; brand approves every caption.",
    ),
    (
        "Kumo Ramen",
        "Asia/Tokyo",
        "priya@northstar.example",
        ["mai@northstar.example"],
        "Two restaurants in Shibuya; Japanese and English captions.",
    ),
    (
        "Verde Yoga Studio",
        "America/Sao_Paulo",
        "admin@northstar.example",
        ["leo@northstar.example"],
        "Weekly class clips, Portuguese captions.",
    ),
]


class Command(BaseCommand):
    help = "Create the demo agency (admin, manager, two staff, five clients) if it is not there."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--print-password", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["print_password"]:
            self.stdout.write(DEMO_PASSWORD)
            return
        if not settings.DEMO:
            raise CommandError("seed_demo only runs in demo mode (SWITCHBOARD_DEMO=1).")
        if User.objects.filter(email=STAFF[0][1]).exists():
            self.stdout.write("Demo data already present; keeping it.")
            return
        with transaction.atomic():
            users = {}
            for name, email, role in STAFF:
                users[email] = User.objects.create_user(
                    email,
                    DEMO_PASSWORD,
                    name=name,
                    role=role,
                    is_staff=role == Role.ADMIN,
                    is_superuser=role == Role.ADMIN,
                )
            admin = users[STAFF[0][1]]
            for name, tz, manager_email, team, notes in CLIENTS:
                client = client_services.client_create(
                    actor=admin,
                    name=name,
                    timezone_name=tz,
                    notes=notes,
                    account_manager=users[manager_email],
                )
                for email in team:
                    client_services.client_membership_add(
                        actor=admin, client=client, user=users[email]
                    )
        self.stdout.write(self.style.SUCCESS("Seeded the demo agency: 4 staff, 5 clients."))
