from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time each worker cluster ran its heartbeat task (read by /healthz)."""

    cluster = models.CharField(max_length=100, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.cluster} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
