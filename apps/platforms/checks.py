"""System checks for the platform packages, registered by `PlatformsConfig.ready()`.

They run with `manage.py check`, `migrate` and `runserver`, so an operator hears about a Graph
API version on its way out well before Instagram calls start failing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage
from django.core.checks import Warning as CheckWarning
from django.utils import timezone

from apps.platforms.instagram import graph_versions

UNKNOWN_VERSION = "platforms.W001"
VERSION_PAST_SUNSET = "platforms.W002"
VERSION_NEAR_SUNSET = "platforms.W003"


def instagram_graph_version(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when INSTAGRAM_GRAPH_VERSION is unknown, switched off, or within
    `graph_versions.WARN_DAYS` of being switched off (PLATFORMS §2.1)."""
    version = str(settings.INSTAGRAM_GRAPH_VERSION)
    hint = (
        f"Set INSTAGRAM_GRAPH_VERSION to a version Meta still serves, e.g. "
        f"{graph_versions.RECOMMENDED}; the dates are in "
        "apps/platforms/instagram/graph_versions.py."
    )
    if not graph_versions.is_known(version):
        return [
            CheckWarning(
                f"INSTAGRAM_GRAPH_VERSION {version!r} is not a Graph API version Switchboard "
                "knows, so it cannot tell when Meta stops serving it.",
                hint=hint,
                id=UNKNOWN_VERSION,
            )
        ]
    sunset = graph_versions.sunset(version)
    if sunset is None:  # no known sunset
        return []
    today = timezone.now().date()
    if today >= sunset:
        return [
            CheckWarning(
                f"INSTAGRAM_GRAPH_VERSION {version} was switched off by Meta on "
                f"{sunset.isoformat()}; Instagram calls on it fail.",
                hint=hint,
                id=VERSION_PAST_SUNSET,
            )
        ]
    days_left = (sunset - today).days
    if days_left <= graph_versions.WARN_DAYS:
        return [
            CheckWarning(
                f"INSTAGRAM_GRAPH_VERSION {version} stops being served on {sunset.isoformat()}, "
                f"in {days_left} day{'s' if days_left != 1 else ''}.",
                hint=hint,
                id=VERSION_NEAR_SUNSET,
            )
        ]
    return []
