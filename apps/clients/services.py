"""Writes to clients and their teams. Each owns its transaction and writes its audit event."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.clients.models import Client, ClientMembership, validate_timezone
from apps.clients.tallies import CLIENTS_BY_STATUS
from apps.staff.models import Role, User

EDITABLE_FIELDS = ("name", "timezone", "notes", "account_manager")


def _unique_slug(name: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(name)[:120] or "client"
    slug, n = base, 2
    qs = Client.objects.all()
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    while qs.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


def _check_name_free(name: str, *, exclude_pk: int | None = None) -> None:
    qs = Client.objects.annotate(lname=Lower("name")).filter(lname=name.strip().lower())
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"name": "A client with this name already exists."})


def _check_account_manager(user: User | None) -> None:
    if user is not None and (not user.is_active or user.role not in (Role.MANAGER, Role.ADMIN)):
        raise ValidationError(
            {"account_manager": "The account manager must be an active manager or admin."}
        )


def _snapshot(client: Client) -> dict[str, Any]:
    return {
        "name": client.name,
        "timezone": client.timezone,
        "notes": client.notes,
        "account_manager": client.account_manager.label if client.account_manager else None,
    }


@transaction.atomic
def client_create(
    *,
    actor: User,
    name: str,
    timezone_name: str,
    notes: str = "",
    account_manager: User | None = None,
) -> Client:
    """Create a client. A manager who creates one becomes its account manager and team member."""
    name = name.strip()
    validate_timezone(timezone_name)
    _check_name_free(name)
    if actor.role == Role.MANAGER:
        account_manager = actor
    _check_account_manager(account_manager)
    try:
        with transaction.atomic():
            client = Client.objects.create(
                name=name,
                slug=_unique_slug(name),
                timezone=timezone_name,
                notes=notes,
                account_manager=account_manager,
                created_by=actor,
            )
            CLIENTS_BY_STATUS.changed()
    except IntegrityError:  # a concurrent create with the same name won the race
        raise ValidationError({"name": "A client with this name already exists."}) from None
    audit_record(
        action=AuditAction.CLIENT_CREATED,
        actor=actor,
        client=client,
        target=client,
        data={"after": _snapshot(client)},
    )
    if account_manager is not None:
        client_membership_add(actor=actor, client=client, user=account_manager)
    return client


@transaction.atomic
def client_update(
    *,
    actor: User,
    client: Client,
    name: str,
    timezone_name: str,
    notes: str,
    account_manager: User | None,
) -> Client:
    """Edit a client's details; audits the fields that changed (before and after)."""
    client = Client.objects.select_for_update().get(pk=client.pk)
    name = name.strip()
    validate_timezone(timezone_name)
    _check_name_free(name, exclude_pk=client.pk)
    _check_account_manager(account_manager)
    before = _snapshot(client)
    client.name = name
    client.timezone = timezone_name
    client.notes = notes
    client.account_manager = account_manager
    after = _snapshot(client)
    changed = {k: {"before": before[k], "after": after[k]} for k in before if before[k] != after[k]}
    if not changed:
        return client
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError:
        raise ValidationError({"name": "A client with this name already exists."}) from None
    audit_record(
        action=AuditAction.CLIENT_EDITED,
        actor=actor,
        client=client,
        target=client,
        data={"changes": changed},
    )
    if (
        account_manager is not None
        and not ClientMembership.objects.filter(client=client, user=account_manager).exists()
    ):
        client_membership_add(actor=actor, client=client, user=account_manager)
    return client


@transaction.atomic
def client_archive(*, actor: User, client: Client) -> Client:
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.status == Client.Status.ARCHIVED:
        return client  # a double click archives once
    client.status = Client.Status.ARCHIVED
    client.archived_at = timezone.now()
    client.save(update_fields=["status", "archived_at"])
    CLIENTS_BY_STATUS.changed()
    audit_record(action=AuditAction.CLIENT_ARCHIVED, actor=actor, client=client, target=client)
    return client


@transaction.atomic
def client_unarchive(*, actor: User, client: Client) -> Client:
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.status == Client.Status.ACTIVE:
        return client
    client.status = Client.Status.ACTIVE
    client.archived_at = None
    client.save(update_fields=["status", "archived_at"])
    CLIENTS_BY_STATUS.changed()
    audit_record(action=AuditAction.CLIENT_UNARCHIVED, actor=actor, client=client, target=client)
    return client


@transaction.atomic
def client_membership_add(*, actor: User, client: Client, user: User) -> ClientMembership:
    """Put `user` on the client's team (idempotent: an existing membership is returned)."""
    if not user.is_active:
        raise ValidationError({"user": "Deactivated staff cannot join a team."})
    membership, created = ClientMembership.objects.get_or_create(
        client=client, user=user, defaults={"added_by": actor}
    )
    if created:
        audit_record(
            action=AuditAction.MEMBERSHIP_ADDED,
            actor=actor,
            client=client,
            target=user,
            data={"user": user.label},
        )
    return membership


@transaction.atomic
def client_membership_remove(*, actor: User, membership: ClientMembership) -> None:
    client, user = membership.client, membership.user
    if client.account_manager_id == user.pk:
        raise ValidationError(
            f"{user} is the account manager of {client}; choose another account manager first."
        )
    deleted, _ = ClientMembership.objects.filter(pk=membership.pk).delete()
    if deleted:
        audit_record(
            action=AuditAction.MEMBERSHIP_REMOVED,
            actor=actor,
            client=client,
            target=user,
            data={"user": user.label},
        )
