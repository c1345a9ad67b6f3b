"""The sandbox clock: wall time plus an offset that tests and the control page can advance."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.emulator.models import SandboxConfig
from apps.emulator.state import get_config


def now() -> dt.datetime:
    """Current sandbox time (aware, UTC)."""
    return timezone.now() + dt.timedelta(seconds=get_config().clock_offset_seconds)


def advance(seconds: float) -> dt.datetime:
    """Move the sandbox clock forward (never backward) and return the new sandbox time."""
    if seconds < 0:
        raise ValueError("the sandbox clock only moves forward")
    config = get_config()
    SandboxConfig.objects.filter(pk=config.pk).update(
        clock_offset_seconds=config.clock_offset_seconds + seconds
    )
    return now()


def unix(moment: dt.datetime) -> int:
    return int(moment.timestamp())
