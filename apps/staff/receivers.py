"""Sign-in, MFA and password signals → audit events. Each receiver calls one service; the
domain flow itself never depends on these (STYLE rule 3)."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import password_changed, password_reset, password_set
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from apps.staff import services
from apps.staff.models import User


@receiver(user_logged_in, dispatch_uid="staff.audit_login")
def on_logged_in(sender: Any, user: User, **kwargs: Any) -> None:
    services.login_record(user=user)


@receiver(user_login_failed, dispatch_uid="staff.audit_login_failed")
def on_login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # Django has already masked the password in `credentials`; we keep only the email anyway.
    attempted = credentials.get("email") or credentials.get("username") or ""
    services.login_failed_record(attempted_email=str(attempted))


@receiver(user_logged_out, dispatch_uid="staff.audit_logout")
def on_logged_out(sender: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        services.logout_record(user=user)


@receiver(authenticator_added, dispatch_uid="staff.audit_mfa_added")
def on_authenticator_added(sender: Any, user: User, authenticator: Any, **kwargs: Any) -> None:
    services.authenticator_added_record(user=user, authenticator_type=authenticator.type)


@receiver(authenticator_removed, dispatch_uid="staff.audit_mfa_removed")
def on_authenticator_removed(sender: Any, user: User, authenticator: Any, **kwargs: Any) -> None:
    services.authenticator_removed_record(user=user, authenticator_type=authenticator.type)


@receiver(authenticator_reset, dispatch_uid="staff.audit_mfa_reset")
def on_authenticator_reset(sender: Any, user: User, **kwargs: Any) -> None:
    services.recovery_codes_reset_record(user=user)


@receiver(password_changed, dispatch_uid="staff.audit_password_changed")
def on_password_changed(sender: Any, user: User, **kwargs: Any) -> None:
    services.password_changed_record(user=user, via="change")


@receiver(password_set, dispatch_uid="staff.audit_password_set")
def on_password_set(sender: Any, user: User, **kwargs: Any) -> None:
    services.password_changed_record(user=user, via="set")


@receiver(password_reset, dispatch_uid="staff.audit_password_reset")
def on_password_reset(sender: Any, user: User, **kwargs: Any) -> None:
    services.password_changed_record(user=user, via="reset")
