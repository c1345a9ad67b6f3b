"""Linked platform accounts, their encrypted credentials, OAuth attempts, connect links and raw
platform callbacks (DESIGN §4, §5)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.connections.providers import any_expiring_q, provider_for
from apps.platforms.types import Platform


class State(models.TextChoices):
    ACTIVE = "active", "Active"
    REFRESH_FAILING = "refresh_failing", "Refresh failing"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
    REVOKED_ON_PLATFORM = "revoked_on_platform", "Revoked on platform"
    DISCONNECT_PENDING = "disconnect_pending", "Disconnect pending"
    DISCONNECTED = "disconnected", "Disconnected"


class Capability(models.TextChoices):
    OK = "ok", "Can publish"
    MISSING_SCOPE = "missing_scope", "Missing publishing permission"
    QUOTA_EXHAUSTED = "quota_exhausted", "Daily limit reached"
    POSTING_RESTRICTED = "posting_restricted", "Posting restricted"
    ACCOUNT_INELIGIBLE = "account_ineligible", "Account can't publish"
    UNKNOWN = "unknown", "Unknown"


# States in which the account still "holds" its platform identity (uniqueness, DESIGN §4).
LIVE_STATES = [s for s in State.values if s != State.DISCONNECTED]
# State groups the pages and services ask about (DESIGN §5); templates use the properties below.
NEEDS_HUMAN_STATES = frozenset({State.NEEDS_RECONNECT, State.REVOKED_ON_PLATFORM})
# The system is still acting (revoking at the platform, retrying a refresh): pages follow it.
SETTLING_STATES = frozenset({State.DISCONNECT_PENDING, State.REFRESH_FAILING})
# Nothing left for people to do on the account (a disconnect is under way or done).
CLOSED_STATES = frozenset({State.DISCONNECT_PENDING, State.DISCONNECTED})
REFRESHABLE = frozenset({State.ACTIVE, State.REFRESH_FAILING})

# Derived warning "stale" (DESIGN §5): no successful check for this long. Defined once, for a row
# (`LinkedAccount.is_stale`) and for a queryset (`LinkedAccountQuerySet.stale`).
STALE_AFTER = timedelta(hours=24)


class LinkedAccountQuerySet(models.QuerySet["LinkedAccount"]):
    """The derived warnings as queries; each matches its row property exactly (tested)."""

    @staticmethod
    def stale_q(*, now: datetime) -> Q:
        cutoff = now - STALE_AFTER
        # Never checked successfully: stale from the connection on.
        return Q(last_ok_at__lt=cutoff) | Q(last_ok_at__isnull=True, connected_at__lt=cutoff)

    @staticmethod
    def expiring_q(*, now: datetime) -> Q:
        return any_expiring_q(now=now)

    def stale(self, *, now: datetime | None = None) -> LinkedAccountQuerySet:
        return self.filter(self.stale_q(now=now or timezone.now()))

    def expiring(self, *, now: datetime | None = None) -> LinkedAccountQuerySet:
        return self.filter(self.expiring_q(now=now or timezone.now()))


class LinkedAccount(models.Model):
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="linked_accounts"
    )
    platform = models.CharField(max_length=16, choices=Platform.choices)
    # TikTok open_id; Instagram professional user_id (the app-scoped id is kept separately).
    external_id = models.CharField(max_length=128)
    app_scoped_id = models.CharField(max_length=128, blank=True)
    handle = models.CharField(max_length=150, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    avatar_url = models.URLField(max_length=1000, blank=True)
    account_type = models.CharField(max_length=40, blank=True)
    state = models.CharField(max_length=24, choices=State.choices, default=State.ACTIVE)
    state_reason = models.CharField(max_length=300, blank=True)
    state_changed_at = models.DateTimeField(default=timezone.now)
    granted_scopes = models.JSONField(default=list, blank=True)
    publish_capability = models.CharField(
        max_length=24, choices=Capability.choices, default=Capability.UNKNOWN
    )
    capability_reason = models.CharField(max_length=300, blank=True)
    capability_until = models.DateTimeField(null=True, blank=True)
    # The platform code behind a capability problem (e.g. "190/459" for a checkpoint): it decides
    # which evidence lifts the problem again (apps.connections.services.capability).
    capability_code = models.CharField(max_length=100, blank=True)
    # The last capability probe (TikTok creator info, Instagram publishing limit) and what it said.
    capability_checked_at = models.DateTimeField(null=True, blank=True)
    capability_detail = models.JSONField(default=dict, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    connected_via_link = models.ForeignKey(
        "connections.ConnectLink",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    connected_at = models.DateTimeField(default=timezone.now)
    # When the current OAuth grant was made (connect or reconnect). A platform callback issued
    # before it speaks of an older grant and changes nothing (DESIGN §5: replays can't undo a
    # reconnect).
    granted_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    last_error_code = models.CharField(max_length=100, blank=True)
    last_error_message = models.CharField(max_length=500, blank=True)
    # One notification per episode (DESIGN §5): set when we emailed, cleared on recovery.
    notified_state = models.CharField(max_length=24, blank=True)
    expiring_notified_at = models.DateTimeField(null=True, blank=True)
    # Set while the sweep has handed out the expiry notice (apps.connections.services.notify); a
    # notice lost with its task is handed out again once this has passed.
    expiry_notice_claimed_until = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    platform_revoke_done = models.BooleanField(default=False)
    platform_revoke_note = models.CharField(max_length=300, blank=True)
    revoke_attempts = models.PositiveIntegerField(default=0)
    # When the sweep next hands out the platform revoke of a pending disconnect (backoff).
    next_revoke_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = LinkedAccountQuerySet.as_manager()

    class Meta:
        ordering = ["client__name", "platform", "handle"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"],
                condition=~Q(state="disconnected"),
                name="connections_one_live_link_per_platform_account",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "platform"]),
            models.Index(fields=["client", "platform"]),
            models.Index(fields=["next_check_at"]),
            # Needs attention, newest first: walked backwards and stopped at the page's end
            # (connections.selectors.needs_attention).
            models.Index(fields=["state_changed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} @{self.handle or self.external_id}"

    @property
    def label(self) -> str:
        return f"{self.get_platform_display()} @{self.handle or self.external_id}"[:255]

    @property
    def is_live(self) -> bool:
        return self.state != State.DISCONNECTED

    @property
    def is_active(self) -> bool:
        return self.state == State.ACTIVE

    @property
    def is_disconnected(self) -> bool:
        return self.state == State.DISCONNECTED

    @property
    def is_closed(self) -> bool:
        """A disconnect is under way or done: no actions are offered."""
        return self.state in CLOSED_STATES

    @property
    def is_settling(self) -> bool:
        """The system is still acting on the account; its page follows along."""
        return self.state in SETTLING_STATES

    @property
    def needs_human(self) -> bool:
        return self.state in NEEDS_HUMAN_STATES

    @property
    def can_refresh(self) -> bool:
        return self.state in REFRESHABLE

    @property
    def lacks_publish_scope(self) -> bool:
        return self.publish_capability == Capability.MISSING_SCOPE

    @property
    def has_capability_problem(self) -> bool:
        return self.publish_capability not in (Capability.OK, Capability.UNKNOWN)

    def is_stale(self, *, now: datetime | None = None) -> bool:
        """No successful check for STALE_AFTER (counted from the connection if never)."""
        last_ok = self.last_ok_at or self.connected_at
        return last_ok < (now or timezone.now()) - STALE_AFTER

    def expiring_deadline(self, *, now: datetime | None = None) -> datetime | None:
        """When a human reconnect becomes unavoidable, if that is within the platform's warning
        window; else None."""
        credential = getattr(self, "credential", None)
        if credential is None:
            return None
        provider = provider_for(self.platform)
        end = provider.expiry_end(
            access_expires_at=credential.access_expires_at,
            refresh_expires_at=credential.refresh_expires_at,
        )
        if end is None or end > (now or timezone.now()) + provider.expiry_warning:
            return None
        return end

    @property
    def credential_end(self) -> datetime | None:
        """When the stored credential dies unless renewed or reconnected (shown on lists)."""
        credential = getattr(self, "credential", None)
        if credential is None:
            return None
        return provider_for(self.platform).expiry_end(
            access_expires_at=credential.access_expires_at,
            refresh_expires_at=credential.refresh_expires_at,
        )


class Credential(models.Model):
    """Encrypted tokens of one linked account. Read only through apps.connections.vault."""

    account = models.OneToOneField(
        LinkedAccount, on_delete=models.CASCADE, related_name="credential"
    )
    access_token = models.TextField()  # ciphertext (apps.common.crypto)
    refresh_token = models.TextField(blank=True)  # ciphertext, or "" when the platform has none
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    obtained_at = models.DateTimeField(default=timezone.now)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_failures = models.PositiveIntegerField(default=0)
    next_refresh_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Set while one worker is refreshing (apps.connections.services.refresh); others stay away.
    refresh_claimed_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Credential of {self.account}"

    def __repr__(self) -> str:  # never the ciphertext either
        return f"<Credential account={self.account_id}>"


class AuthorizationRequest(models.Model):
    """One OAuth attempt: single use, 10-minute expiry, bound to a session or a connect link."""

    class Outcome(models.TextChoices):
        PENDING = "", "Pending"
        CONNECTED = "connected", "Connected"
        RECONNECTED = "reconnected", "Reconnected"
        MISMATCH = "mismatch", "Different account came back"
        DENIED = "denied", "Denied by the user"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused"

    state = models.CharField(max_length=64, unique=True)
    pkce_verifier = models.CharField(max_length=128)
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    connect_link = models.ForeignKey(
        "connections.ConnectLink",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="authorization_requests",
    )
    session_key_hash = models.CharField(max_length=64, blank=True)
    reconnect_of = models.ForeignKey(
        LinkedAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_path = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    outcome_detail = models.CharField(max_length=300, blank=True)
    # A mismatch parks the exchanged identity here until a human decides...
    pending_identity = models.JSONField(default=dict, blank=True)
    # ...and the grant's tokens, encrypted, so confirming needs no second round trip.
    pending_credential = models.TextField(blank=True)
    result_account = models.ForeignKey(
        LinkedAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    LIFETIME = timedelta(minutes=10)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"OAuth {self.platform} for {self.client_id} ({self.outcome or 'pending'})"

    @staticmethod
    def hash_session_key(session_key: str) -> str:
        return hashlib.sha256(session_key.encode()).hexdigest()


class ConnectLink(models.Model):
    """A signed, expiring, single-use link the brand opens to authorize on its own device."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="connect_links"
    )
    platform = models.CharField(max_length=16, choices=Platform.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_to = models.EmailField(blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    used_at = models.DateTimeField(null=True, blank=True)
    used_account = models.ForeignKey(
        LinkedAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    DEFAULT_LIFETIME = timedelta(days=7)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Connect link for {self.client_id} ({self.platform})"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def status(self) -> str:
        if self.used_at:
            return "used"
        if self.revoked_at:
            return "revoked"
        if timezone.now() >= self.expires_at:
            return "expired"
        return "open"

    @property
    def is_open(self) -> bool:
        return self.status == "open"


class WebhookEvent(models.Model):
    """A platform callback, stored before anything acts on it.

    Verified: the parsed payload. Refused (unverified, or signed but unreadable): only a bounded
    record — body hash, size, a ≤ 2 KB excerpt, a few safe headers — and at most
    WEBHOOK_UNVERIFIED_PER_MINUTE of them per platform and minute (`rate_slot`).
    """

    class Kind(models.TextChoices):
        TIKTOK_WEBHOOK = "tiktok_webhook", "TikTok webhook"
        IG_DEAUTHORIZE = "instagram_deauthorize", "Instagram deauthorize"
        IG_DATA_DELETION = "instagram_data_deletion", "Instagram data deletion"

    EXCERPT_BYTES = 2048

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    platform = models.CharField(max_length=16, choices=Platform.choices)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    event_type = models.CharField(max_length=64, blank=True)
    verified = models.BooleanField(default=False)
    verification_error = models.CharField(max_length=200, blank=True)
    # Verified events: TikTok, sha256 of the body; Instagram, of kind + the decoded payload.
    dedupe_key = models.CharField(max_length=128, blank=True)
    # TikTok's replay memory: the verified signature's key (PLATFORMS §1.9). Unique in the
    # database, so an exact re-send is recognised by every web process and machine.
    signature_key = models.CharField(max_length=64, blank=True)
    external_id = models.CharField(max_length=128, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    body_sha256 = models.CharField(max_length=64, blank=True)
    body_size = models.PositiveIntegerField(null=True, blank=True)
    body_excerpt = models.CharField(max_length=EXCERPT_BYTES, blank=True)
    request_summary = models.JSONField(default=dict, blank=True)
    # "<unix minute>:<n>" for the n-th refused delivery stored in that minute; unique per
    # platform, so the per-minute cap holds across processes without a lock.
    rate_slot = models.CharField(max_length=32, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=300, blank=True)
    confirmation_code = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "dedupe_key"],
                condition=Q(verified=True) & ~Q(dedupe_key=""),
                name="connections_webhook_dedupe",
            ),
            models.UniqueConstraint(
                fields=["platform", "signature_key"],
                condition=~Q(signature_key=""),
                name="connections_webhook_signature_once",
            ),
            models.UniqueConstraint(
                fields=["platform", "rate_slot"],
                condition=~Q(rate_slot=""),
                name="connections_webhook_refused_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_type} @ {self.received_at:%Y-%m-%d %H:%M:%S}"


class AccountAttempt(models.Model):
    """One outbound call sequence made for an account outside publishing: a token refresh or a
    platform-side revoke (STYLE rule 8). Routine successes live here, not in the audit log.

    A grant we refused or a cancelled mismatch is revoked for a platform account nobody has
    linked: that row has no `account`, only the platform and its external id.
    """

    class Kind(models.TextChoices):
        REFRESH = "refresh", "Token refresh"
        REVOKE = "revoke", "Platform revoke"

    class Outcome(models.TextChoices):
        OK = "ok", "Succeeded"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Outcome unknown"

    account = models.ForeignKey(
        LinkedAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="attempts"
    )
    # Set only on rows without an account (a discarded grant): which platform account it was.
    platform = models.CharField(max_length=16, choices=Platform.choices, blank=True)
    external_id = models.CharField(max_length=128, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    message = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["account", "-started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False) | ~Q(platform=""),
                name="connections_attempt_names_its_account",
            ),
        ]

    def __str__(self) -> str:
        of = self.account_id or f"{self.platform} {self.external_id}"
        return f"{self.kind} of {of}: {self.outcome or 'in progress'}"


class StateChange(models.Model):
    """The history of an account's lifecycle: every move with its reason and time."""

    account = models.ForeignKey(LinkedAccount, on_delete=models.CASCADE, related_name="history")
    from_state = models.CharField(max_length=24, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=24, choices=State.choices)
    reason = models.CharField(max_length=300, blank=True)
    actor_label = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_state} → {self.to_state}"
