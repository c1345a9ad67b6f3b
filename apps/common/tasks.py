"""Thin tasks of the common app."""

from __future__ import annotations

from django.conf import settings

from apps.common.health import heartbeat_record


def heartbeat() -> None:
    heartbeat_record(cluster=str(settings.Q_CLUSTER["name"]))
