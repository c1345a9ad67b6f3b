"""Publishing's object access, built on `apps/clients/access.py`: a media asset, post or target is
visible exactly when its client is; anything else answers 404 so ids don't leak (DESIGN §1)."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from apps.clients.access import scope_to_visible_clients
from apps.clients.models import Client
from apps.publishing.models import CrossPost, MediaAsset, PublishTarget


def get_asset_for_view(user: Any, pk: int) -> MediaAsset:
    try:
        return scope_to_visible_clients(MediaAsset.objects.select_related("client"), user).get(
            pk=pk
        )
    except MediaAsset.DoesNotExist:
        raise Http404("No such video.") from None


def get_crosspost_for_view(user: Any, pk: int) -> CrossPost:
    try:
        return scope_to_visible_clients(
            CrossPost.objects.select_related("client", "media"), user
        ).get(pk=pk)
    except CrossPost.DoesNotExist:
        raise Http404("No such post.") from None


def get_target_for_view(user: Any, pk: int) -> PublishTarget:
    """One account's part of a post, with its post, client and account; 404 as for the post."""
    try:
        return scope_to_visible_clients(
            PublishTarget.objects.select_related("crosspost__client", "linked_account"),
            user,
            field="crosspost__client",
        ).get(pk=pk)
    except PublishTarget.DoesNotExist:
        raise Http404("No such post.") from None


def can_schedule_for(client: Client) -> bool:
    """New work (compose, reschedule) for a client the viewer already sees. Everyone who sees a
    client may post for it (DESIGN §1: its team, its manager, admins); an archived client takes
    none. Cancelling stays open to them either way, so an archive never strands a post."""
    return not client.is_archived
