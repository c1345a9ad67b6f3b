"""One provider per platform (DESIGN §2 principle 8): the registry is complete, and connections
code outside the providers names no platform."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from apps.connections.providers import PROVIDERS, all_providers, provider_for
from apps.platforms.types import Platform

CONNECTIONS = Path(__file__).resolve().parents[2] / "apps" / "connections"
PLATFORM_WORDS = {p.value for p in Platform} | {p.label.lower() for p in Platform}


def test_every_platform_has_exactly_one_provider():
    assert set(PROVIDERS) == set(Platform)
    for platform in Platform:
        assert provider_for(platform).platform == platform
        assert provider_for(str(platform)) is provider_for(platform)


def test_every_provider_states_its_connection_rules():
    for provider in all_providers():
        assert provider.publish_scopes
        assert isinstance(provider.reactive_refresh, bool)
        assert isinstance(provider.probe_sees_bans, bool)
        assert provider.expiry_warning.total_seconds() > 0
        assert provider.expiry_end_field() in {"access_expires_at", "refresh_expires_at"}


def _platform_literals(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.lower() in PLATFORM_WORDS
        ):
            found.append((node.lineno, node.value))
    return found


def test_connections_code_outside_the_providers_names_no_platform():
    offenders = {}
    for path in CONNECTIONS.rglob("*.py"):
        relative = path.relative_to(CONNECTIONS)
        if relative.parts[0] in {"providers", "migrations"}:
            continue
        if relative.as_posix() == "urls.py":
            continue  # one fixed redirect URI per platform (DESIGN §10) is routing, not logic
        literals = _platform_literals(path)
        if literals:
            offenders[relative.as_posix()] = literals
    assert offenders == {}


TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "connections"


def test_connections_templates_name_no_platform_in_their_logic():
    """Columns, branches and lookups come from the registry: a template never reads
    `row.tiktok` or compares with "instagram" (prose for people may name them)."""
    words = "|".join(sorted(PLATFORM_WORDS))
    logic = re.compile(rf"\.({words})\b|[\"']({words})[\"']|<th[^>]*>\s*({words})\s*</th>", re.I)
    offenders = {
        path.name: [m.group(0) for m in logic.finditer(path.read_text())]
        for path in TEMPLATES.rglob("*.html")
    }
    assert {name: found for name, found in offenders.items() if found} == {}


@pytest.mark.django_db
def test_the_health_table_has_one_column_per_platform(admin_user):
    from apps.connections.selectors import health_counts
    from tests.factories import LinkedAccountFactory

    LinkedAccountFactory(platform=Platform.INSTAGRAM)
    health = health_counts(user=admin_user)
    assert health["platforms"] == [p.label for p in Platform]
    (active,) = [row for row in health["rows"] if row["state"] == "active"]
    assert dict(zip(Platform, active["counts"], strict=True))[Platform.INSTAGRAM] == 1
    assert active["total"] == sum(active["counts"]) == 1


def _webhook_routes() -> dict[tuple[str, str], str]:
    """(platform, kind) → URL name of every route to the generic webhook view."""
    from apps.connections import urls, webhook_views

    return {
        (pattern.default_args["platform"], pattern.default_args["kind"]): pattern.name
        for pattern in urls.urlpatterns
        if getattr(pattern, "callback", None) is webhook_views.webhook
    }


def test_every_provider_webhook_kind_has_exactly_one_url():
    from django.urls import reverse

    declared = {
        (str(provider.platform), kind)
        for provider in all_providers()
        for kind in provider.webhook_kinds
    }
    routes = _webhook_routes()
    assert set(routes) == declared
    for name in routes.values():
        assert reverse(f"connections:{name}")


@pytest.mark.parametrize(
    ("platform", "kind"), [("tiktok", "no-such-kind"), ("no-such-platform", "events")]
)
def test_an_unknown_webhook_platform_or_kind_answers_404(rf, platform, kind):
    from django.http import Http404

    from apps.connections import webhook_views

    with pytest.raises(Http404):
        request = rf.post("/webhooks/", b"{}", content_type="application/json")
        webhook_views.webhook(request, platform=platform, kind=kind)
