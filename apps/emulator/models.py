"""Sandbox state (DESIGN §9). Everything lives in the database so web and worker processes share it.

Times stored here are *sandbox* times (`apps.emulator.clock.now()`), i.e. wall time plus the
advanced offset, so token expiry and processing progress move when a test advances the clock.
"""

from __future__ import annotations

from django.db import models


class Platform(models.TextChoices):
    TIKTOK = "tiktok", "TikTok"
    INSTAGRAM = "instagram", "Instagram"


class SandboxConfig(models.Model):
    """Singleton (pk=1): the clock offset and every knob the control API can turn."""

    clock_offset_seconds = models.FloatField(default=0.0)
    # PLATFORMS §1.3: sources disagree (24 h / 365 d vs 2 h / 180 d); newest values by default.
    tiktok_access_ttl = models.PositiveIntegerField(default=7200)
    tiktok_refresh_ttl = models.PositiveIntegerField(default=15_552_000)
    tiktok_code_ttl = models.PositiveIntegerField(default=600)
    # PLATFORMS §2.2-2.4: code 1 h, short-lived token 1 h, long-lived ≈60 d (5183944 s in examples).
    instagram_code_ttl = models.PositiveIntegerField(default=3600)
    instagram_short_ttl = models.PositiveIntegerField(default=3600)
    instagram_long_ttl = models.PositiveIntegerField(default=5_184_000)
    # Code-exchange reply (PLATFORMS §2.3): "flat" = `{access_token, user_id, permissions}`, what
    # every production client found reads (the default); "data" = `{"data":[{…}]}`, the shape the
    # current docs show.
    instagram_token_shape = models.CharField(max_length=8, default="flat")
    # Processing ("moves over time"): sandbox seconds before a result is visible.
    tiktok_processing_seconds = models.PositiveIntegerField(default=10)
    tiktok_moderation_seconds = models.PositiveIntegerField(default=30)
    instagram_processing_seconds = models.PositiveIntegerField(default=10)
    # PLATFORMS §1.6(h): audited clients; unaudited ones are SELF_ONLY, private, ≤5 creators/24 h.
    tiktok_client_audited = models.BooleanField(default=True)
    tiktok_active_user_cap = models.PositiveIntegerField(default=100)
    # PLATFORMS §1.6(e): PULL_FROM_URL needs a verified domain / URL prefix. Empty list = the
    # PUBLIC_BASE_URL plus localhost addresses.
    tiktok_verified_url_prefixes = models.JSONField(default=list, blank=True)
    # Redirect URIs registered for the app besides Switchboard's own callback, which is always
    # registered (PUBLIC_BASE_URL + OAUTH_REDIRECT_PATHS[platform]); e.g. a test's live server.
    # Matched exactly (PLATFORMS §1.2, §2.2); see grants.registered_redirect_uris().
    tiktok_registered_redirect_uris = models.JSONField(default=list, blank=True)
    instagram_registered_redirect_uris = models.JSONField(default=list, blank=True)
    # Webhook / callback targets; blank = settings.PUBLIC_BASE_URL + settings.WEBHOOK_PATHS[...].
    tiktok_webhook_url = models.URLField(max_length=500, blank=True)
    instagram_deauthorize_url = models.URLField(max_length=500, blank=True)
    instagram_data_deletion_url = models.URLField(max_length=500, blank=True)
    webhooks_enabled = models.BooleanField(default=True)
    # Which secret signs the Instagram deauthorize / data-deletion callbacks (PLATFORMS §2.11):
    # "instagram" = the Instagram App Secret; "meta" = the parent Meta app's (META_APP_SECRET),
    # as one production handler reports Meta does.
    instagram_signing_secret = models.CharField(max_length=16, default="instagram")

    def __str__(self) -> str:
        return "sandbox config"


class SandboxAccount(models.Model):
    """A platform user of the sandbox, with the traits that drive its behaviour."""

    class AccountType(models.TextChoices):
        BUSINESS = "BUSINESS"
        MEDIA_CREATOR = "MEDIA_CREATOR"
        PERSONAL = "PERSONAL"

    platform = models.CharField(max_length=16, choices=Platform.choices)
    key = models.SlugField(max_length=40, unique=True)
    username = models.CharField(max_length=64)
    display_name = models.CharField(max_length=120)
    description = models.CharField(max_length=200, blank=True)
    # TikTok: open_id/union_id. Instagram: ig_user_id (professional id) + app_scoped_id.
    open_id = models.CharField(max_length=64, blank=True)
    union_id = models.CharField(max_length=64, blank=True)
    ig_user_id = models.CharField(max_length=32, blank=True)
    app_scoped_id = models.CharField(max_length=32, blank=True)
    # Traits.
    is_private = models.BooleanField(default=False)
    is_verified = models.BooleanField(default=False)
    max_video_post_duration_sec = models.PositiveIntegerField(default=300)
    account_type = models.CharField(max_length=16, choices=AccountType.choices, blank=True)
    comment_disabled = models.BooleanField(default=False)
    duet_disabled = models.BooleanField(default=False)
    stitch_disabled = models.BooleanField(default=True)
    followers_count = models.PositiveIntegerField(default=0)
    follows_count = models.PositiveIntegerField(default=0)
    # State changed by platform-side actions.
    banned_from_posting = models.BooleanField(default=False)
    checkpointed = models.BooleanField(default=False)
    password_version = models.PositiveIntegerField(default=1)
    # TikTok ~15 Direct Posts/day (§1.6h); Instagram quota_total 100/24 h (§2.7).
    daily_post_cap = models.PositiveIntegerField(default=15)
    quota_exhausted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["platform", "id"]

    def __str__(self) -> str:
        return f"{self.platform}:{self.username}"

    @property
    def is_professional(self) -> bool:
        return self.account_type in {self.AccountType.BUSINESS, self.AccountType.MEDIA_CREATOR}


class SandboxToken(models.Model):
    """Authorization codes, access and refresh tokens of both platforms."""

    class Kind(models.TextChoices):
        TT_CODE = "tt_code"
        TT_ACCESS = "tt_access"
        TT_REFRESH = "tt_refresh"
        IG_CODE = "ig_code"
        IG_SHORT = "ig_short"
        IG_LONG = "ig_long"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    value = models.CharField(max_length=200, unique=True)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="tokens")
    scopes = models.CharField(max_length=500, blank=True)
    redirect_uri = models.CharField(max_length=600, blank=True)
    # TikTok PKCE (PLATFORMS §1.2): the S256 challenge sent to authorize, hex(SHA-256(verifier)).
    code_challenge = models.CharField(max_length=128, blank=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # A refresh chain keeps its original deadline; see tiktok/oauth.py.
    password_version = models.PositiveIntegerField(default=1)
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value[:8]}…"

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split(",") if s]

    @property
    def masked(self) -> str:
        return self.value[:8] + "…"


class TikTokPublish(models.Model):
    """One Content Posting API task (publish_id), direct or inbox, FILE_UPLOAD or PULL_FROM_URL."""

    class Phase(models.TextChoices):
        UPLOADING = "uploading"
        PROCESSING = "processing"
        SETTLED = "settled"
        CANCELLED = "cancelled"

    publish_id = models.CharField(max_length=64, unique=True)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="publishes")
    flow = models.CharField(max_length=8, default="direct")  # direct | inbox
    source = models.CharField(max_length=16)  # FILE_UPLOAD | PULL_FROM_URL
    post_info = models.JSONField(default=dict, blank=True)
    video_url = models.CharField(max_length=2000, blank=True)
    video_size = models.BigIntegerField(default=0)
    chunk_size = models.BigIntegerField(default=0)
    total_chunk_count = models.PositiveIntegerField(default=0)
    uploaded_bytes = models.BigIntegerField(default=0)
    upload_token = models.CharField(max_length=64, blank=True)
    upload_expires_at = models.DateTimeField(null=True, blank=True)
    file_path = models.CharField(max_length=500, blank=True)
    phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.UPLOADING)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    # Decided when processing starts, revealed once the processing delay has elapsed.
    pending_fail_reason = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True)
    fail_reason = models.CharField(max_length=64, blank=True)
    # When `post.publish.publicly_available` was sent (once, after moderation, public posts only).
    publicly_available_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.publish_id


class InstagramContainer(models.Model):
    """An IG media container (PLATFORMS §2.7 step 1), REELS only."""

    container_id = models.CharField(max_length=32, unique=True)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="containers")
    media_type = models.CharField(max_length=16)
    video_url = models.CharField(max_length=2000)
    params = models.JSONField(default=dict, blank=True)
    caption = models.TextField(blank=True)
    file_path = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    # Subcode decided by the media check; revealed as status ERROR after processing.
    pending_error_subcode = models.PositiveIntegerField(null=True, blank=True)
    pending_error_message = models.CharField(max_length=300, blank=True)
    published = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.container_id


class LedgerEntry(models.Model):
    """Everything the sandbox published; one row per post, so tests can assert exactly one."""

    platform = models.CharField(max_length=16, choices=Platform.choices)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="posts")
    # publish_id (TikTok) or container id (Instagram): unique, so a post can't happen twice.
    source_ref = models.CharField(max_length=64)
    post_id = models.CharField(max_length=32, unique=True)
    shortcode = models.CharField(max_length=16, blank=True)
    caption = models.TextField(blank=True)
    privacy_level = models.CharField(max_length=32, blank=True)
    video_sha256 = models.CharField(max_length=64, blank=True)
    video_bytes = models.BigIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "source_ref"], name="emulator_one_post")
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.post_id}"


class FaultRule(models.Model):
    """Fault injection for one endpoint (see apps/emulator/faults.py for names and presets)."""

    endpoint = models.CharField(max_length=48)
    error = models.CharField(max_length=48, blank=True)  # preset name; blank = latency only
    http_status = models.PositiveIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)  # custom body instead of the preset's
    rate = models.FloatField(default=1.0)
    latency_ms = models.PositiveIntegerField(default=0)
    lost_response = models.BooleanField(default=False)
    remaining = models.PositiveIntegerField(null=True, blank=True)  # None = unlimited
    hits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["endpoint", "id"]

    def __str__(self) -> str:
        return f"{self.endpoint}:{self.error or 'latency'}"


class WebhookDelivery(models.Model):
    """One outbound webhook/callback the sandbox sent (or tried to)."""

    kind = models.CharField(max_length=64)  # e.g. "tiktok:post.publish.inbox_delivered"
    url = models.CharField(max_length=500)
    body = models.TextField()
    headers = models.JSONField(default=dict)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind}→{self.url}"
