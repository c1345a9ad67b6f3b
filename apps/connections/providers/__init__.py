"""The platform registry: one `Provider` per `Platform` (healthchecks' TRANSPORTS, STYLE).

Adding a platform is one provider module here (its webhook kinds and receivers included) plus its
`apps/platforms/<platform>/` package and its lines in `apps/connections/urls.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import reduce
from operator import or_

from django.db.models import Q

from apps.connections.providers.base import (
    CapabilityReport,
    Grant,
    Identity,
    IdentityProbe,
    Provider,
    expiring_q,
    redirect_uri,
)
from apps.connections.providers.instagram import InstagramProvider
from apps.connections.providers.tiktok import TikTokProvider
from apps.platforms.types import Platform

PROVIDERS: dict[Platform, Provider] = {
    provider.platform: provider for provider in (TikTokProvider(), InstagramProvider())
}


def provider_for(platform: Platform | str) -> Provider:
    return PROVIDERS[Platform(platform)]


def all_providers() -> Iterable[Provider]:
    return PROVIDERS.values()


def any_expiring_q(*, now: datetime, prefix: str = "") -> Q:
    """Accounts on any platform whose credential dies within that platform's warning window."""
    return reduce(or_, (expiring_q(p, now=now, prefix=prefix) for p in all_providers()))


__all__ = [
    "PROVIDERS",
    "CapabilityReport",
    "Grant",
    "Identity",
    "IdentityProbe",
    "Provider",
    "all_providers",
    "any_expiring_q",
    "provider_for",
    "redirect_uri",
]
