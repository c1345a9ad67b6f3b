""" "Expiring" and "stale" are defined once (DESIGN §5): the row properties the pages show and
the queryset filters the lists and the sweep use agree on every case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.connections.lifecycle import warnings_for
from apps.connections.models import LinkedAccount
from apps.connections.providers import provider_for
from tests.factories import DAY, CredentialFactory, LinkedAccountFactory

STALE_CASES = {
    # name: (last_ok_at offset, connected_at offset); None = never
    "checked just now": (timedelta(0), timedelta(days=-30)),
    "last success 23 h ago": (timedelta(hours=-23), timedelta(days=-30)),
    "last success 25 h ago": (timedelta(hours=-25), timedelta(days=-30)),
    "never checked, connected 1 h ago": (None, timedelta(hours=-1)),
    "never checked, connected 2 days ago": (None, timedelta(days=-2)),
}


@pytest.mark.django_db
def test_stale_means_the_same_for_a_row_and_a_query(client_obj):
    now = timezone.now()
    accounts = {}
    for n, (name, (ok, connected)) in enumerate(STALE_CASES.items()):
        accounts[name] = LinkedAccountFactory(
            client=client_obj,
            external_id=f"stale-{n}",
            last_ok_at=now + ok if ok is not None else None,
            connected_at=now + connected,
        )
    by_query = set(LinkedAccount.objects.stale(now=now).values_list("pk", flat=True))
    by_row = {a.pk for a in accounts.values() if a.is_stale(now=now)}
    assert by_query == by_row
    assert {a.pk for n, a in accounts.items() if "25 h" in n or "2 days" in n} == by_row
    shown = {a.pk for a in accounts.values() if any(w["code"] == "stale" for w in warnings_for(a))}
    assert shown == by_row


@pytest.mark.parametrize("platform", ["tiktok", "instagram"])
@pytest.mark.django_db
def test_expiring_means_the_same_for_a_row_and_a_query(client_obj, platform):
    now = timezone.now()
    warning = provider_for(platform).expiry_warning
    accounts = []
    for n, days_left in enumerate([1, warning.days - 1, warning.days + 1, 90]):
        account = LinkedAccountFactory(client=client_obj, platform=platform, external_id=f"exp-{n}")
        # Both ends set to the same date: whichever the platform counts from decides.
        CredentialFactory(
            account=account, expires_in=days_left * DAY, refresh_expires_in=days_left * DAY
        )
        accounts.append(account)
    LinkedAccountFactory(client=client_obj, platform=platform, external_id="no-credential")
    fresh = list(LinkedAccount.objects.filter(platform=platform).select_related("credential"))
    by_query = set(LinkedAccount.objects.expiring(now=now).values_list("pk", flat=True))
    by_row = {a.pk for a in fresh if a.expiring_deadline(now=now) is not None}
    assert by_query == by_row == {accounts[0].pk, accounts[1].pk}
