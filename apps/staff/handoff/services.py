"""The role handoff itself (DESIGN §8): one transaction, one event per change, one
`handoff.completed` that lists them, all tagged with the same handoff id.

Races, and what this does about them:
- It works from what is true when it runs, not from the preview: the people, the chosen clients
  and every row it changes are locked (SELECT … FOR UPDATE) and read again under the lock.
- The confirm page carries a `Snapshot` of what it showed. Anything the departing person holds
  now that the page did not show (a link issued, a team joined, a post scheduled after the
  preview) refuses the handoff with `HandoffChanged`, so an admin never hands over — or revokes —
  something they did not see. Things that went away meanwhile (a post published, a link used)
  are simply reported.
- A connect link the brand completed first is locked and re-read, found used, and reported as
  such, never "revoked" afterwards. One completed after our lock finds it revoked.
- A post a worker dispatches at the same moment: only the post's owner changes (one UPDATE of
  `created_by`, under the same row lock the composer takes), never its targets, whose states the
  dispatcher moves with conditional updates of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.clients.models import Client, ClientMembership
from apps.common.jobs import enqueue
from apps.connections.models import ConnectLink, LinkedAccount
from apps.connections.services.health import CHECKABLE_STATES
from apps.connections.services.links import connect_link_revoke
from apps.publishing.models import CrossPost, PublishTarget
from apps.staff.handoff.selectors import OPEN_POST_STATES, Snapshot, handoff_holdings
from apps.staff.models import User
from apps.staff.roles import can_manage_clients
from apps.staff.services import user_deactivate

CHECK_TASK = "apps.connections.tasks.check_account"

# How a handoff found each connect link it looked at (the report's words).
LINK_REVOKED = "revoked"
LINK_COMPLETED = "completed"
LINK_ALREADY_REVOKED = "already_revoked"
LINK_EXPIRED = "expired"

_KIND_WORDS = {
    "clients": ("client", "clients"),
    "managed": ("client they now manage", "clients they now manage"),
    "member": ("team they joined", "teams they joined"),
    "posts": ("scheduled post", "scheduled posts"),
    "links": ("connect link", "connect links"),
    "accounts": ("connected account", "connected accounts"),
}


class HandoffAlreadyDone(Exception):
    """The same confirmed plan ran before (a double submit, a replayed form)."""

    def __init__(self, event: AuditEvent) -> None:
        self.event = event
        super().__init__(f"handoff already completed as event {event.pk}")


class HandoffChanged(Exception):
    """The departing person holds something the confirm page did not show: review again."""

    def __init__(self, news: dict[str, frozenset[int]]) -> None:
        self.news = news
        super().__init__(self.summary)

    @property
    def summary(self) -> str:
        parts = []
        for kind, ids in self.news.items():
            one, many = _KIND_WORDS[kind]
            parts.append(f"{len(ids)} new {one if len(ids) == 1 else many}")
        return ", ".join(parts)


@dataclass(frozen=True)
class _Run:
    """What one handoff is working with, passed between its steps."""

    handoff_id: str
    actor: User
    departing: User
    receiving: User

    @property
    def tag(self) -> dict[str, Any]:
        return {"handoff_id": self.handoff_id}


def _check_people(*, departing: User, receiving: User) -> None:
    if departing.pk == receiving.pk:
        raise ValidationError("Pick two different people.", code="same_person")
    if not receiving.is_active:
        raise ValidationError(
            f"{receiving} is deactivated and can't receive clients.", code="receiver_inactive"
        )


def _check_managers(*, run: _Run, clients: list[Client]) -> None:
    managed = [c.name for c in clients if c.account_manager_id == run.departing.pk]
    if managed and not can_manage_clients(run.receiving):
        raise ValidationError(
            f"{run.receiving} is {run.receiving.get_role_display().lower()} and can't be the "
            f"account manager of {', '.join(managed)}. Make them an account manager first, "
            "or pick someone else.",
            code="receiver_cannot_manage",
        )


@transaction.atomic
def handoff_complete(
    *,
    actor: User,
    departing: User,
    receiving: User,
    client_ids: Collection[int],
    deactivate: bool = False,
    seen: Snapshot | None = None,
    plan_id: str = "",
) -> AuditEvent:
    """Move what `departing` holds on `client_ids` to `receiving`, optionally deactivate them,
    and return the `handoff.completed` event. Raises ValidationError (a rule refuses it: the
    last active admin, a receiver who can't manage clients, …) or HandoffChanged (anything new
    since `seen`); either way nothing is changed. A `plan_id` that already ran raises
    HandoffAlreadyDone."""
    # Every event of this handoff has a higher id than this: the report finds them by id range.
    start_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    # People first, in pk order, as user_deactivate and role changes lock them.
    people = {
        u.pk: u
        for u in User.objects.select_for_update()
        .filter(pk__in=[departing.pk, receiving.pk])
        .order_by("pk")
    }
    departing, receiving = people[departing.pk], people[receiving.pk]
    if plan_id:
        # Under the people's locks: a second submit of the same plan waits for the first to
        # commit, then finds its event (served by the action index; few handoffs ever exist).
        done = AuditEvent.objects.filter(
            action=AuditAction.HANDOFF_COMPLETED, data__plan_id=plan_id
        ).first()
        if done is not None:
            raise HandoffAlreadyDone(done)
    _check_people(departing=departing, receiving=receiving)
    chosen = set(client_ids)
    if not chosen and not deactivate:
        raise ValidationError("Choose at least one client to hand over.", code="nothing_chosen")
    run = _Run(uuid.uuid4().hex, actor, departing, receiving)

    clients = list(Client.objects.select_for_update().filter(pk__in=chosen).order_by("pk"))
    current = handoff_holdings(departing=departing, receiving=receiving).snapshot()
    if seen is not None:
        news = current.new_since(seen)
        if news:
            raise HandoffChanged(news)
    _check_managers(run=run, clients=clients)
    seen = seen or Snapshot()

    for client in sorted(clients, key=lambda c: (c.name, c.pk)):
        _move_client_roles(run=run, client=client)
    finished_posts = _move_posts(run=run, chosen=chosen, post_ids=current.posts | seen.posts)
    link_outcomes = _revoke_links(run=run, chosen=chosen, link_ids=current.links | seen.links)
    checks = _queue_health_checks(run=run, chosen=chosen)
    sessions_ended = 0
    deactivated = False
    if deactivate and departing.is_active:
        # Its own rules hold here too: the last active admin is refused (and all of the above
        # rolls back with it).
        user_deactivate(user=departing, actor=actor, audit_data=run.tag)
        deactivated = True
    change_ids = list(
        AuditEvent.objects.filter(id__gt=start_id, data__handoff_id=run.handoff_id)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if deactivated:
        event = AuditEvent.objects.filter(
            pk__in=change_ids, action=AuditAction.STAFF_DEACTIVATED
        ).first()
        sessions_ended = int(event.data.get("sessions_ended", 0)) if event else 0
    return audit_record(
        action=AuditAction.HANDOFF_COMPLETED,
        actor=actor,
        target=departing,
        data={
            **run.tag,
            "plan_id": plan_id,
            "departing": departing.label,
            "departing_id": departing.pk,
            "departing_name": str(departing),
            "receiving": receiving.label,
            "receiving_id": receiving.pk,
            "receiving_name": str(receiving),
            "clients": [
                {"id": c.pk, "name": c.name} for c in sorted(clients, key=lambda c: (c.name, c.pk))
            ],
            "deactivated": deactivated,
            "sessions_ended": sessions_ended,
            "links_not_revoked": [o for o in link_outcomes if o["outcome"] != LINK_REVOKED],
            "posts_finished": finished_posts,
            "checks_queued": checks,
            "change_event_ids": change_ids,
        },
    )


def _move_client_roles(*, run: _Run, client: Client) -> None:
    """The account manager role, then the team place: the receiver joins, the departing leaves."""
    departing, receiving = run.departing, run.receiving
    was_manager = client.account_manager_id == departing.pk
    membership = (
        ClientMembership.objects.select_for_update().filter(client=client, user=departing).first()
    )
    if was_manager:
        client.account_manager = receiving
        client.save(update_fields=["account_manager"])
        audit_record(
            action=AuditAction.HANDOFF_MANAGER_MOVED,
            actor=run.actor,
            client=client,
            target=client,
            data={
                **run.tag,
                "changes": {
                    "account_manager": {"before": departing.label, "after": receiving.label}
                },
            },
        )
    if membership is None and not was_manager:
        return
    _, joined = ClientMembership.objects.get_or_create(
        client=client, user=receiving, defaults={"added_by": run.actor}
    )
    if membership is not None:
        membership.delete()
    if membership is None and not joined:
        return
    audit_record(
        action=AuditAction.HANDOFF_TEAM_MOVED,
        actor=run.actor,
        client=client,
        target=receiving,
        target_label=f"{departing} → {receiving}",
        data={
            **run.tag,
            "left": departing.label if membership is not None else None,
            "joined": receiving.label if joined else None,
        },
    )


def _move_posts(*, run: _Run, chosen: set[int], post_ids: frozenset[int]) -> list[dict[str, Any]]:
    """New owner for every post still on its way; returns the posts that finished first."""
    posts = list(
        CrossPost.objects.select_for_update(of=("self",))
        .filter(pk__in=post_ids, client_id__in=chosen, created_by=run.departing)
        .select_related("client")
        .order_by("pk")
    )
    states: dict[int, set[str]] = {}
    for post_id, state in PublishTarget.objects.filter(
        crosspost_id__in=[p.pk for p in posts]
    ).values_list("crosspost_id", "state"):
        states.setdefault(post_id, set()).add(state)
    finished = []
    for post in posts:
        if not states.get(post.pk, set()) & OPEN_POST_STATES:
            finished.append(
                {"id": post.pk, "client": post.client.name, "status": post.get_status_display()}
            )
            continue
        # Only the owner column: a dispatcher or composer writing the same post keeps its change.
        CrossPost.objects.filter(pk=post.pk).update(created_by=run.receiving)
        audit_record(
            action=AuditAction.HANDOFF_POST_MOVED,
            actor=run.actor,
            client=post.client,
            target=post,
            target_label=f"Post {post.pk}",
            data={
                **run.tag,
                "changes": {
                    "created_by": {"before": run.departing.label, "after": run.receiving.label}
                },
                "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
            },
        )
    return finished


def _revoke_links(*, run: _Run, chosen: set[int], link_ids: frozenset[int]) -> list[dict[str, Any]]:
    """Revoke the departing person's open links; say how each link was found."""
    now = timezone.now()
    links = list(
        ConnectLink.objects.select_for_update(of=("self",))
        .filter(pk__in=link_ids, client_id__in=chosen, created_by=run.departing)
        .select_related("client")
        .order_by("pk")
    )
    outcomes = []
    for link in links:
        if link.used_at:
            outcome, at = LINK_COMPLETED, link.used_at
        elif link.revoked_at:
            outcome, at = LINK_ALREADY_REVOKED, link.revoked_at
        elif link.expires_at <= now:
            outcome, at = LINK_EXPIRED, link.expires_at
        else:
            connect_link_revoke(link=link, actor=run.actor, audit_data=run.tag)
            outcome, at = LINK_REVOKED, now
        outcomes.append(
            {
                "id": link.pk,
                "client": link.client.name,
                "label": f"{link.get_platform_display()} connect link",
                "sent_to": link.sent_to,
                "outcome": outcome,
                "at": at.isoformat(),
            }
        )
    return outcomes


def _queue_health_checks(*, run: _Run, chosen: set[int]) -> list[dict[str, Any]]:
    """An immediate health check of each account they connected there, queued on commit."""
    accounts = (
        LinkedAccount.objects.filter(
            connected_by=run.departing, client_id__in=chosen, state__in=CHECKABLE_STATES
        )
        .select_related("client")
        .order_by("client__name", "platform", "handle", "pk")
    )
    queued = []
    for account in accounts:
        enqueue(CHECK_TASK, account.pk)
        queued.append({"id": account.pk, "label": account.label, "client": account.client.name})
    return queued
