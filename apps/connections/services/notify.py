"""Email the client's account manager when an account needs people (DESIGN §5), once per
episode: leaving `active` (until it is active again) and becoming `expiring`."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.connections.models import LinkedAccount, State

# How long an expiry notice handed out by the sweep stays claimed: long enough for a backed-up
# queue to reach it, short enough that a notice lost with its task goes out the same hour.
EXPIRY_NOTICE_CLAIM = timedelta(minutes=15)


def _manager_email(account: LinkedAccount) -> str:
    manager = account.client.account_manager
    return manager.email if manager and manager.is_active else ""


def notify_account_problems(*, account_id: int) -> list[str]:
    """Send what is due for one account; returns the kinds sent (for tests and logs)."""
    sent: list[str] = []
    with transaction.atomic():
        account = (
            LinkedAccount.objects.select_for_update(of=("self",))
            .select_related("client__account_manager", "credential")
            .get(pk=account_id)
        )
        to = _manager_email(account)
        url = f"{settings.PUBLIC_BASE_URL}/connections/{account.pk}/"
        if account.state in (State.ACTIVE, State.DISCONNECTED, State.DISCONNECT_PENDING):
            if account.state == State.ACTIVE and account.notified_state:
                account.notified_state = ""
                account.save(update_fields=["notified_state"])
        elif account.notified_state != account.state:
            account.notified_state = account.state
            account.save(update_fields=["notified_state"])
            if to:
                subject = f"{account.client.name}: {account.label} — {account.get_state_display()}"
                body = (
                    f"{account.label} of {account.client.name} is now "
                    f"“{account.get_state_display()}”.\n\nReason: {account.state_reason}\n\n"
                    f"See it and fix it: {url}\n"
                )
                transaction.on_commit(lambda: send_mail(subject, body, None, [to]))
                sent.append("state")
        if account.expiry_notice_claimed_until is not None:
            # This run decides the expiry notice, whoever handed it out: the claim is done.
            account.expiry_notice_claimed_until = None
            account.save(update_fields=["expiry_notice_claimed_until"])
        deadline = account.expiring_deadline() if account.state == State.ACTIVE else None
        if deadline is None:
            if account.expiring_notified_at:
                account.expiring_notified_at = None
                account.save(update_fields=["expiring_notified_at"])
        elif account.expiring_notified_at is None:
            account.expiring_notified_at = timezone.now()
            account.save(update_fields=["expiring_notified_at"])
            if to:
                subject = f"{account.client.name}: {account.label} needs a reconnect soon"
                body = (
                    f"{account.label} of {account.client.name} must be reconnected before "
                    f"{deadline:%d %B %Y}, or publishing will stop.\n\nReconnect: {url}\n"
                )
                transaction.on_commit(lambda: send_mail(subject, body, None, [to]))
                sent.append("expiring")
    return sent


def claim_due_expiry_notices(*, limit: int = 200) -> list[int]:
    """Active accounts turning `expiring` that have not been told yet, each claimed for
    EXPIRY_NOTICE_CLAIM by a conditional update, so a second sweep (another cluster, or the next
    minute while the queue is backed up) doesn't hand the notice out again. The notice run
    clears the claim; a claim whose task was lost runs out and the notice is handed out anew."""
    now = timezone.now()
    unclaimed = Q(expiry_notice_claimed_until__isnull=True) | Q(
        expiry_notice_claimed_until__lte=now
    )
    due = list(
        LinkedAccount.objects.filter(
            unclaimed, state=State.ACTIVE, expiring_notified_at__isnull=True
        )
        .expiring(now=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not due:
        return []
    # One conditional UPDATE for the lot; the rows this sweep won carry its own claim time (a
    # sweep racing it claimed the others with another).
    until = now + EXPIRY_NOTICE_CLAIM
    LinkedAccount.objects.filter(unclaimed, pk__in=due).update(expiry_notice_claimed_until=until)
    return list(
        LinkedAccount.objects.filter(pk__in=due, expiry_notice_claimed_until=until)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
