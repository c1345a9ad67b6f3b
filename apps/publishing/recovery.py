"""A person's way out of a target that failed or whose outcome nobody knows (DESIGN §6).

- `target_retry`: a `failed` target goes back to `scheduled`, due now (attempts kept).
- `target_confirm_published`: an `unconfirmed` target that a person found on the profile is
  `published`, with the link they pasted when they have one.
- `target_confirm_missing`: an `unconfirmed` target that a person did not find on the profile is
  published again (`scheduled`, due now). Only a person may decide this: the publisher never
  repeats a call whose outcome it doesn't know (DESIGN §2 rule 4).

Each reads the target again under a row lock and refuses, with a sentence for people and nothing
changed, when it is no longer in the state the action is for: someone else acted first, or the
same person clicked twice. The move goes through `target_transition` with the person as actor,
and the audit event (written here, in the same transaction) records what they decided.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.publishing.accounts import account_label, publish_block
from apps.publishing.composition import ChangeRefused
from apps.publishing.lifecycle import StaleTarget, crosspost_refresh_status, target_transition
from apps.publishing.models import PublishTarget, TargetState

__all__ = [
    "ChangeRefused",
    "target_confirm_missing",
    "target_confirm_published",
    "target_retry",
]


def _fresh_start(now: Any) -> dict[str, Any]:
    """What a new publish of the target starts from: due now, no lease, no stored progress (a
    stale TikTok publish_id or Instagram container would otherwise be reconciled instead of
    published again), and the account manager hears about the next problem again."""
    return {
        "due_at": now,
        "next_attempt_at": None,
        "dispatched_at": None,
        "lease_until": None,
        "checkpoint": {},
        "last_error_code": "",
        "last_error_message": "",
        "notified_state": "",
    }


# The platform's ids of an earlier attempt (DESIGN §4 checkpoint). Only these go into the audit
# event: the checkpoint may hold other working data, such as an upload URL, that is no record's
# business.
CHECKPOINT_IDS = ("publish_id", "container_id", "media_id", "post_id")


def _platform_ids(target: PublishTarget) -> dict[str, Any]:
    checkpoint = target.checkpoint or {}
    return {key: checkpoint[key] for key in CHECKPOINT_IDS if checkpoint.get(key)}


def _locked(target: PublishTarget) -> PublishTarget:
    return (
        PublishTarget.objects.select_for_update(of=("self",))
        .select_related("crosspost__client", "linked_account")
        .get(pk=target.pk)
    )


def _require_state(target: PublishTarget, wanted: TargetState, *, what: str) -> None:
    if target.state != wanted:
        raise ChangeRefused(
            f"The post to {account_label(target.linked_account)} is "
            f"{target.get_state_display().lower()} now, not {wanted.label.lower()}: it changed "
            f"after this page was shown (someone else may have {what} it already). "
            "Nothing was changed."
        )


def _require_publishable(target: PublishTarget) -> None:
    client = target.crosspost.client
    if client.is_archived:
        raise ChangeRefused(
            f"{client.name} is archived, so nothing new is published for it. Nothing was changed."
        )
    block = publish_block(target.linked_account)
    if block:
        raise ChangeRefused(
            f"{account_label(target.linked_account)} can't publish now ({block}). Fix that on "
            "the account's page, then try again. Nothing was changed."
        )


def _record(target: PublishTarget, *, actor: Any, before: str, decision: str, **data: Any) -> None:
    audit_record(
        action=AuditAction.TARGET_STATE_CHANGED,
        actor=actor,
        client=target.crosspost.client,
        target=target,
        target_label=f"{target.get_platform_display()} of post {target.crosspost_id}",
        data={
            "from": before,
            "to": str(target.state),
            "reason": target.state_reason,
            "decision": decision,
            "attempts": target.attempts,
            **data,
        },
    )


def _actor_name(actor: Any) -> str:
    return getattr(actor, "name", "") or getattr(actor, "email", "") or "staff"


def target_retry(*, actor: Any, target: PublishTarget) -> PublishTarget:
    """Publish a failed target again, now. Its attempt history and count stay."""
    try:
        with transaction.atomic():
            current = _locked(target)
            _require_state(current, TargetState.FAILED, what="retried")
            _require_publishable(current)
            abandoned = _platform_ids(current)
            target_transition(
                target=current,
                to=TargetState.SCHEDULED,
                reason=f"Retried by {_actor_name(actor)}",
                actor=actor,
                audited=False,  # recorded below with the decision and what was set aside
                **_fresh_start(timezone.now()),
            )
            _record(
                current,
                actor=actor,
                before=TargetState.FAILED,
                decision="retry",
                set_aside=abandoned,
            )
            crosspost_refresh_status(current.crosspost)
            return current
    except StaleTarget as stale:
        raise ChangeRefused(_stale_message(stale)) from None


def target_confirm_published(
    *, actor: Any, target: PublishTarget, permalink: str = ""
) -> PublishTarget:
    """A person found the video of an unconfirmed target on the profile: it is published.
    `permalink` is the post's link they pasted (already checked to be the platform's), or ""."""
    try:
        with transaction.atomic():
            current = _locked(target)
            _require_state(current, TargetState.UNCONFIRMED, what="answered for")
            now = timezone.now()
            fields: dict[str, Any] = {
                "published_at": now,
                "last_error_code": "",
                "last_error_message": "",
                "notified_state": "",
            }
            if permalink:
                fields["permalink"] = permalink
            target_transition(
                target=current,
                to=TargetState.PUBLISHED,
                reason=f"{_actor_name(actor)} found it on the profile",
                actor=actor,
                audited=False,  # recorded below with the decision and the link
                **fields,
            )
            _record(
                current,
                actor=actor,
                before=TargetState.UNCONFIRMED,
                decision="found_on_profile",
                permalink=permalink,
            )
            crosspost_refresh_status(current.crosspost)
            return current
    except StaleTarget as stale:
        raise ChangeRefused(_stale_message(stale)) from None


def target_confirm_missing(*, actor: Any, target: PublishTarget) -> PublishTarget:
    """A person looked on the profile and the video of an unconfirmed target is not there:
    publish it again, now."""
    try:
        with transaction.atomic():
            current = _locked(target)
            _require_state(current, TargetState.UNCONFIRMED, what="answered for")
            _require_publishable(current)
            abandoned = _platform_ids(current)
            target_transition(
                target=current,
                to=TargetState.SCHEDULED,
                reason=f"{_actor_name(actor)} didn't find it on the profile; publishing again",
                actor=actor,
                audited=False,  # recorded below with the decision and what was set aside
                **_fresh_start(timezone.now()),
            )
            _record(
                current,
                actor=actor,
                before=TargetState.UNCONFIRMED,
                decision="missing_from_profile",
                set_aside=abandoned,
            )
            crosspost_refresh_status(current.crosspost)
            return current
    except StaleTarget as stale:
        raise ChangeRefused(_stale_message(stale)) from None


def _stale_message(stale: StaleTarget) -> str:
    return (
        f"The post to {account_label(stale.target.linked_account)} changed state a moment ago, "
        "so nothing was changed. Reload the page to see where it is now."
    )
