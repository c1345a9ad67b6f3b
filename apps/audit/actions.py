"""Every audit action code, in one enum (DESIGN §7). Later issues add theirs here."""

from __future__ import annotations

from django.db import models


class AuditAction(models.TextChoices):
    # Sign-in and MFA
    AUTH_LOGIN = "auth.login", "Signed in"
    AUTH_LOGIN_FAILED = "auth.login_failed", "Sign-in failed"
    AUTH_LOGOUT = "auth.logout", "Signed out"
    AUTH_MFA_ENABLED = "auth.mfa_enabled", "MFA enabled"
    AUTH_MFA_DISABLED = "auth.mfa_disabled", "MFA disabled"
    AUTH_RECOVERY_CODES_GENERATED = "auth.recovery_codes_generated", "Recovery codes generated"
    AUTH_PASSWORD_CHANGED = "auth.password_changed", "Password changed"
    AUTH_SESSIONS_ENDED = "auth.sessions_ended", "Other sessions ended"
    # Staff
    STAFF_INVITED = "staff.invited", "Staff invited"
    STAFF_INVITATION_REVOKED = "staff.invitation_revoked", "Invitation revoked"
    STAFF_JOINED = "staff.joined", "Staff joined"
    STAFF_ROLE_CHANGED = "staff.role_changed", "Role changed"
    STAFF_DEACTIVATED = "staff.deactivated", "Staff deactivated"
    STAFF_REACTIVATED = "staff.reactivated", "Staff reactivated"
    # Clients
    CLIENT_CREATED = "client.created", "Client created"
    CLIENT_EDITED = "client.edited", "Client edited"
    CLIENT_ARCHIVED = "client.archived", "Client archived"
    CLIENT_UNARCHIVED = "client.unarchived", "Client unarchived"
    MEMBERSHIP_ADDED = "client.member_added", "Team member added"
    MEMBERSHIP_REMOVED = "client.member_removed", "Team member removed"
