"""Writes for staff, invitations and sign-in events. Each owns its transaction and records the
audit event inside it (DESIGN §7)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from importlib import import_module
from typing import Any

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.common.timezones import validate_timezone
from apps.staff import selectors
from apps.staff.models import Invitation, Role, User

_DB_SESSION_ENGINES = (
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
)


class InvitationUnusable(Exception):
    """The invitation link is unknown, expired, revoked or already used."""


# --- Invitations --------------------------------------------------------------------------------


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _check_invitable(email: str, *, ignoring: Invitation | None = None) -> None:
    if selectors.user_exists_with_email(email):
        raise ValidationError(
            "%(email)s already belongs to a staff member.", params={"email": email}, code="taken"
        )
    open_invitation = selectors.invitation_open_for_email(email)
    if open_invitation is not None and open_invitation != ignoring:
        raise ValidationError(
            "%(email)s already has an open invitation. Resend or revoke it from the staff page.",
            params={"email": email},
            code="invited",
        )


def _send_invitation_email(*, invitation: Invitation, token: str, base_url: str) -> None:
    """Queued for after commit, so a rolled-back invitation never reaches an inbox."""
    context = {
        "invitation": invitation,
        "accept_url": base_url.rstrip("/") + reverse("staff:accept", args=[token]),
        "inviter": invitation.invited_by,
        "max_age_days": settings.INVITATION_MAX_AGE_DAYS,
    }
    subject = render_to_string("staff/email/invitation_subject.txt", context).strip()
    body = render_to_string("staff/email/invitation_message.txt", context)
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
    )


@transaction.atomic
def invitation_create(
    *, email: str, role: str, name: str = "", invited_by: User, base_url: str
) -> tuple[Invitation, str]:
    """Invite `email` to join with `role`; emails the link. Returns the invitation and the raw
    token (stored only as a hash). Raises ValidationError for a taken or already-invited email."""
    email = email.strip().lower()
    _check_invitable(email)
    token = _new_token()
    invitation = Invitation.objects.create(
        email=email,
        name=name.strip(),
        role=Role(role),
        token_hash=Invitation.hash_token(token),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    )
    audit_record(
        action=AuditAction.STAFF_INVITED,
        actor=invited_by,
        target=invitation,
        target_label=email,
        data={
            "email": email,
            "role": invitation.role,
            "expires_at": invitation.expires_at.isoformat(),
        },
    )
    _send_invitation_email(invitation=invitation, token=token, base_url=base_url)
    return invitation, token


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor: User, base_url: str) -> str:
    """Issue a new token and expiry for a pending (or expired) invitation; the old link stops
    working. Returns the new raw token."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(
            "This invitation was already %(status)s.", params={"status": invitation.status}
        )
    _check_invitable(invitation.email, ignoring=invitation)
    token = _new_token()
    invitation.token_hash = Invitation.hash_token(token)
    invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
    invitation.invited_by = actor
    invitation.save(update_fields=["token_hash", "expires_at", "invited_by"])
    audit_record(
        action=AuditAction.STAFF_INVITED,
        actor=actor,
        target=invitation,
        target_label=invitation.email,
        data={
            "email": invitation.email,
            "role": invitation.role,
            "expires_at": invitation.expires_at.isoformat(),
            "resent": True,
        },
    )
    _send_invitation_email(invitation=invitation, token=token, base_url=base_url)
    return token


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> None:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(
            "This invitation was already %(status)s.", params={"status": invitation.status}
        )
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        action=AuditAction.STAFF_INVITATION_REVOKED,
        actor=actor,
        target=invitation,
        target_label=invitation.email,
        data={"email": invitation.email, "role": invitation.role},
    )


@transaction.atomic
def invitation_accept(*, token: str, name: str, password: str) -> User:
    """Create the invited user (single use: the row is locked and marked accepted in the same
    transaction). Raises InvitationUnusable; the password must already be validated."""
    token_hash = Invitation.hash_token(token)
    invitation = Invitation.objects.select_for_update().filter(token_hash=token_hash).first()
    if invitation is None or not invitation.is_open:
        raise InvitationUnusable
    if selectors.user_exists_with_email(invitation.email):
        raise InvitationUnusable
    user = User.objects.create_user(
        email=invitation.email, password=password, name=name.strip(), role=invitation.role
    )
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user"])
    audit_record(
        action=AuditAction.STAFF_JOINED,
        actor=user,
        target=user,
        data={"role": user.role, "invitation_id": invitation.pk},
    )
    return user


# --- Users --------------------------------------------------------------------------------------


def _refuse_if_last_admin(user: User, *, doing: str) -> None:
    """Lock the active admins and refuse a change that would leave none."""
    admins = list(
        User.objects.select_for_update()
        .filter(role=Role.ADMIN, is_active=True)
        .values_list("pk", flat=True)
    )
    if admins == [user.pk]:
        raise ValidationError(
            f"{user} is the last active admin and cannot be {doing}. "
            "Make someone else an admin first.",
            code="last_admin",
        )


@transaction.atomic
def user_change_role(*, user: User, role: str, actor: User) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    new_role = Role(role)
    before = user.role
    if new_role == before:
        return user
    if before == Role.ADMIN and user.is_active:
        _refuse_if_last_admin(user, doing="demoted")
    user.role = new_role
    user.save(update_fields=["role"])
    audit_record(
        action=AuditAction.STAFF_ROLE_CHANGED,
        actor=actor,
        target=user,
        data={"before": {"role": before}, "after": {"role": new_role.value}},
    )
    return user


@transaction.atomic
def user_change_timezone(*, user: User, timezone_name: str) -> User:
    """Set the zone `user` reads times in ("" = the agency's TIME_ZONE); audited with before and
    after, as every change is."""
    if timezone_name:
        validate_timezone(timezone_name)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.timezone != timezone_name:
        before = user.timezone
        user.timezone = timezone_name
        user.save(update_fields=["timezone"])
        audit_record(
            action=AuditAction.STAFF_TIMEZONE_CHANGED,
            actor=user,
            target=user,
            data={
                "changes": {"timezone": {"before": before or None, "after": timezone_name or None}}
            },
        )
    return user


def _end_all_sessions(user: User) -> int:
    """End every session of `user`: allauth's tracked ones, then any untracked Django session
    (created before usersessions tracked it). Returns how many were ended."""
    ended = 0
    for user_session in UserSession.objects.filter(user=user):
        user_session.end()
        ended += 1
    if settings.SESSION_ENGINE in _DB_SESSION_ENGINES:
        engine = import_module(settings.SESSION_ENGINE)
        store_class = engine.SessionStore
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
            if session.get_decoded().get(SESSION_KEY) == str(user.pk):
                store_class().delete(session.session_key)
                ended += 1
    return ended


@transaction.atomic
def user_deactivate(*, user: User, actor: User, audit_data: dict[str, Any] | None = None) -> User:
    """Deactivate `user` and end all their sessions. Refuses to remove the last active admin.
    `audit_data` joins the event's data (a handoff's id)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return user
    if user.role == Role.ADMIN:
        _refuse_if_last_admin(user, doing="deactivated")
    user.is_active = False
    user.deactivated_at = timezone.now()
    user.save(update_fields=["is_active", "deactivated_at"])
    sessions_ended = _end_all_sessions(user)
    audit_record(
        action=AuditAction.STAFF_DEACTIVATED,
        actor=actor,
        target=user,
        data={**(audit_data or {}), "sessions_ended": sessions_ended},
    )
    return user


@transaction.atomic
def user_reactivate(*, user: User, actor: User) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        return user
    user.is_active = True
    user.deactivated_at = None
    user.save(update_fields=["is_active", "deactivated_at"])
    audit_record(action=AuditAction.STAFF_REACTIVATED, actor=actor, target=user)
    return user


# --- Sign-in events (called from apps/staff/receivers.py) ----------------------------------------


@transaction.atomic
def login_record(*, user: User) -> None:
    audit_record(action=AuditAction.AUTH_LOGIN, actor=user, target=user)


@transaction.atomic
def login_failed_record(*, attempted_email: str) -> None:
    """Only the attempted email is kept; the password never reaches this function."""
    audit_record(
        action=AuditAction.AUTH_LOGIN_FAILED,
        actor=None,
        actor_label=attempted_email.strip()[:254] or "(no email)",
    )


@transaction.atomic
def logout_record(*, user: User) -> None:
    audit_record(action=AuditAction.AUTH_LOGOUT, actor=user, target=user)


_RECOVERY_CODES = "recovery_codes"


@transaction.atomic
def authenticator_added_record(*, user: User, authenticator_type: str) -> None:
    action = (
        AuditAction.AUTH_RECOVERY_CODES_GENERATED
        if authenticator_type == _RECOVERY_CODES
        else AuditAction.AUTH_MFA_ENABLED
    )
    audit_record(action=action, actor=user, target=user, data={"type": authenticator_type})


@transaction.atomic
def authenticator_removed_record(*, user: User, authenticator_type: str) -> None:
    # Removing the last authenticator also drops the now dangling recovery codes; that is part
    # of disabling MFA, not an event of its own.
    if authenticator_type == _RECOVERY_CODES:
        return
    audit_record(
        action=AuditAction.AUTH_MFA_DISABLED,
        actor=user,
        target=user,
        data={"type": authenticator_type},
    )


@transaction.atomic
def recovery_codes_reset_record(*, user: User) -> None:
    audit_record(
        action=AuditAction.AUTH_RECOVERY_CODES_GENERATED,
        actor=user,
        target=user,
        data={"type": _RECOVERY_CODES},
    )


@transaction.atomic
def password_changed_record(*, user: User, via: str) -> None:
    audit_record(
        action=AuditAction.AUTH_PASSWORD_CHANGED, actor=user, target=user, data={"via": via}
    )
