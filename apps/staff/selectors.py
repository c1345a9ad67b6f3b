"""Reads for the staff pages, shaped for their templates (no query per row)."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.staff.models import Invitation, Role, User


def staff_list() -> QuerySet[User]:
    """Every user, active first, each annotated with `has_mfa` (a non-recovery authenticator)."""
    authenticators = Authenticator.objects.filter(user=OuterRef("pk")).exclude(
        type=Authenticator.Type.RECOVERY_CODES
    )
    return User.objects.annotate(has_mfa=Exists(authenticators)).order_by(
        "-is_active", "name", "email"
    )


def invitations_pending() -> QuerySet[Invitation]:
    """Invitations not yet accepted or revoked, newest first; expired ones included (resendable)."""
    return Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("invited_by")


def invitation_open_for_email(email: str) -> Invitation | None:
    return (
        Invitation.objects.filter(
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )


def user_exists_with_email(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def invitation_by_token(token: str) -> Invitation | None:
    return (
        Invitation.objects.filter(token_hash=Invitation.hash_token(token))
        .select_related("invited_by")
        .first()
    )


def active_admin_count(*, excluding: User | None = None) -> int:
    qs = User.objects.filter(role=Role.ADMIN, is_active=True)
    if excluding is not None:
        qs = qs.exclude(pk=excluding.pk)
    return qs.count()


def user_has_mfa(user: User) -> bool:
    return (
        Authenticator.objects.filter(user=user)
        .filter(~Q(type=Authenticator.Type.RECOVERY_CODES))
        .exists()
    )
