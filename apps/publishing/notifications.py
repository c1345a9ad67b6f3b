"""The account manager hears once when a post fails or its outcome can't be known (DESIGN §6)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from apps.publishing.lifecycle import PROBLEM_STATES
from apps.publishing.models import PublishTarget, TargetState

WHAT_HAPPENED = {
    TargetState.FAILED: "could not be published",
    TargetState.UNCONFIRMED: "may or may not have been published — nobody can tell from here",
}
WHAT_TO_DO = {
    TargetState.FAILED: "See why, fix it and retry",
    TargetState.UNCONFIRMED: "Check the profile, then say on the post page whether it is there",
}


def notify_target_problem(*, target_id: int) -> bool:
    """Email the client's account manager about a failed or unconfirmed target, once per
    episode: a re-delivered task, or a second move into the same state, sends nothing.
    Returns whether an email went out."""
    with transaction.atomic():
        target = (
            PublishTarget.objects.select_for_update(of=("self",))
            .select_related("crosspost__client__account_manager", "linked_account")
            .get(pk=target_id)
        )
        if target.state not in PROBLEM_STATES:
            if target.notified_state:  # the episode is over; the next problem is news again
                target.notified_state = ""
                target.save(update_fields=["notified_state"])
            return False
        if target.notified_state == target.state:
            return False
        target.notified_state = target.state
        target.save(update_fields=["notified_state"])
        manager = target.crosspost.client.account_manager
        if manager is None or not manager.is_active or not manager.email:
            return False
        client = target.crosspost.client
        account = target.linked_account
        state = TargetState(target.state)
        url = settings.PUBLIC_BASE_URL + reverse("publishing:post", args=[target.crosspost_id])
        subject = f"{client.name}: a post to {account.label} {WHAT_HAPPENED[state].split(' —')[0]}"
        body = (
            f"The post for {client.name} to {account.label} {WHAT_HAPPENED[state]}.\n\n"
            f"Reason: {target.state_reason or target.last_error_message or 'not given'}\n\n"
            f"{WHAT_TO_DO[state]}: {url}\n"
        )
        transaction.on_commit(lambda: send_mail(subject, body, None, [manager.email]))
    return True
