"""Reads for the media pages."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.clients.models import Client
from apps.publishing.models import MediaAsset


def assets_for_client(*, client: Client) -> QuerySet[MediaAsset]:
    """The client's videos, newest first, with what the library grid shows (one query)."""
    return (
        MediaAsset.objects.filter(client=client)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-pk")
    )
