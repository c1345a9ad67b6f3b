"""System checks for the publishing pipeline's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


def dispatcher_fits_the_task_timeout(**_: Any) -> list[checks.CheckMessage]:
    """A dispatcher loop is one django-q2 task: it must end before Q_TIMEOUT kills it, or
    dispatching pauses until the lease runs out and a new loop starts."""
    loop = settings.PUBLISH_DISPATCH_LOOP_SECONDS + settings.PUBLISH_DISPATCH_HANDOVER_SECONDS
    timeout = float(str(settings.Q_CLUSTER.get("timeout") or 0))
    if timeout and loop >= timeout:
        return [
            checks.Warning(
                f"PUBLISH_DISPATCH_LOOP_SECONDS + PUBLISH_DISPATCH_HANDOVER_SECONDS ({loop:g} s) "
                f"is not under Q_TIMEOUT ({timeout:g} s): the worker would kill the dispatcher "
                "loop, and due posts would wait for a new one.",
                hint="Lower the loop or handover seconds, or raise Q_TIMEOUT.",
                id="publishing.W001",
            )
        ]
    return []
