"""Every audit action code, in one enum (DESIGN §7). Later issues add theirs here."""

from __future__ import annotations

from dataclasses import dataclass

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
    STAFF_TIMEZONE_CHANGED = "staff.timezone_changed", "Timezone changed"
    # Role handoff (DESIGN §8): one `handoff.completed` plus one event per change, each with the
    # handoff's id in its data (link revocations and a deactivation keep their own codes).
    HANDOFF_COMPLETED = "handoff.completed", "Handoff completed"
    HANDOFF_MANAGER_MOVED = "handoff.manager_moved", "Account manager handed over"
    HANDOFF_TEAM_MOVED = "handoff.team_moved", "Team place handed over"
    HANDOFF_POST_MOVED = "handoff.post_moved", "Scheduled post handed over"
    # Clients
    CLIENT_CREATED = "client.created", "Client created"
    CLIENT_EDITED = "client.edited", "Client edited"
    CLIENT_ARCHIVED = "client.archived", "Client archived"
    CLIENT_UNARCHIVED = "client.unarchived", "Client unarchived"
    MEMBERSHIP_ADDED = "client.member_added", "Team member added"
    MEMBERSHIP_REMOVED = "client.member_removed", "Team member removed"
    # Connections
    CONNECTION_CONNECTED = "connection.connected", "Account connected"
    CONNECTION_RECONNECTED = "connection.reconnected", "Account reconnected"
    CONNECTION_RESTORED = "connection.restored", "Account healthy again"
    CONNECTION_MISMATCH = "connection.mismatch", "Reconnect returned another account"
    CONNECTION_REFUSED = "connection.refused", "Connection refused"
    CONNECTION_DENIED = "connection.denied", "Consent not given on the platform"
    CONNECTION_MISMATCH_CANCELLED = (
        "connection.mismatch_cancelled",
        "Reconnect with another account discarded",
    )
    CONNECTION_REFRESHED = "connection.refreshed", "Token refreshed"
    CONNECTION_REFRESH_FAILED = "connection.refresh_failed", "Token refresh failed"
    CONNECTION_NEEDS_RECONNECT = "connection.needs_reconnect", "Needs reconnect"
    CONNECTION_REVOKED_ON_PLATFORM = "connection.revoked_on_platform", "Revoked on the platform"
    CONNECTION_DISCONNECT_REQUESTED = "connection.disconnect_requested", "Disconnect requested"
    CONNECTION_DISCONNECTED = "connection.disconnected", "Account disconnected"
    CONNECTION_CHECKED = "connection.checked", "Health checked"
    CONNECTION_CAPABILITY_CHANGED = "connection.capability_changed", "Publishing capability changed"
    CONNECTION_DATA_DELETED = "connection.data_deleted", "Platform data deleted on request"
    CONNECT_LINK_CREATED = "connect_link.created", "Connect link created"
    CONNECT_LINK_REVOKED = "connect_link.revoked", "Connect link revoked"
    CONNECT_LINK_COMPLETED = "connect_link.completed", "Connect link completed"
    WEBHOOK_RECEIVED = "webhook.received", "Platform callback received"
    WEBHOOK_REJECTED = "webhook.rejected", "Platform callback rejected"
    CREDENTIALS_ROTATED = "connection.keys_rotated", "Token encryption keys rotated"

    MEDIA_UPLOADED = "media.uploaded", "Video uploaded"
    POST_DRAFT_SAVED = "post.draft_saved", "Draft saved"
    POST_SCHEDULED = "post.scheduled", "Post scheduled"
    POST_RESCHEDULED = "post.rescheduled", "Post rescheduled"
    POST_EDITED = "post.edited", "Post edited"
    POST_CANCELLED = "post.cancelled", "Post cancelled"
    TARGET_CANCELLED = "post.target_cancelled", "Account removed from a post"
    TARGET_STATE_CHANGED = "post.target_state", "Publishing state changed"

    # The audit log itself
    AUDIT_EXPORTED = "audit.exported", "Audit log exported"
    AUDIT_CHAIN_VERIFIED = "audit.chain_verified", "Audit chain verified"


@dataclass(frozen=True)
class ActionGroup:
    """A kind of event people filter by, defined by action code prefixes."""

    key: str
    label: str
    prefixes: tuple[str, ...]

    def covers(self, code: str) -> bool:
        return code.startswith(self.prefixes)

    @property
    def codes(self) -> list[str]:
        """Every known code of the group (the filter is `action IN codes`, served by the
        (action, id) index; a prefix LIKE could not walk it newest first)."""
        return [code for code in AuditAction.values if self.covers(code)]


# The one place groups are defined: each code belongs to exactly one group (tested), and a new
# code joins its group by its prefix.
ACTION_GROUPS: tuple[ActionGroup, ...] = (
    ActionGroup("connections", "Connections", ("connection.", "connect_link.", "webhook.")),
    ActionGroup("publishing", "Publishing", ("post.", "media.", "publish.")),
    ActionGroup("staff", "Staff and roles", ("staff.", "handoff.")),
    ActionGroup("clients", "Clients and teams", ("client.",)),
    ActionGroup("sign_in", "Sign-in", ("auth.",)),
    ActionGroup("audit", "Audit log", ("audit.",)),
)
GROUPS_BY_KEY = {group.key: group for group in ACTION_GROUPS}


def group_of(code: str) -> ActionGroup | None:
    return next((group for group in ACTION_GROUPS if group.covers(code)), None)
