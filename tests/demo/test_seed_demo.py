"""seed_demo builds the agency README.md describes (logins, clients, teams)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.clients.models import Client

README = Path(__file__).resolve().parents[2] / "README.md"
pytestmark = pytest.mark.django_db


def readme_table(header: str) -> list[list[str]]:
    lines = README.read_text().splitlines()
    start = lines.index(header) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def test_the_readme_lists_every_client_with_its_account_manager_and_team(settings):
    settings.DEMO = True
    call_command("seed_demo")

    def first_name(user):
        return user.name.split()[0]

    seeded = [
        [
            client.name,
            client.timezone.split("/")[-1].replace("_", " "),  # America/Sao_Paulo: Sao Paulo
            first_name(client.account_manager),
            sorted(first_name(m.user) for m in client.memberships.select_related("user")),
        ]
        for client in Client.objects.order_by("name")
    ]
    documented = [
        [name, unaccented(city), manager, sorted(re.split(r",\s*", team))]
        for name, city, manager, team in readme_table("| client | city | account manager | team |")
    ]
    assert documented == seeded
