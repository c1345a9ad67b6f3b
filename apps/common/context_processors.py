from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def switchboard(request: HttpRequest) -> dict[str, object]:
    return {
        "DEMO_MODE": settings.DEMO,
        "EMULATOR_ENABLED": settings.EMULATOR_ENABLED,
        # The agency running this deployment, named to brands on connect-link pages.
        "AGENCY_NAME": settings.AGENCY_NAME,
    }
