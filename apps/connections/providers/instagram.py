"""Instagram's side of a connection (Instagram API with Instagram Login; PLATFORMS §2, §4)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from apps.connections.providers.base import (
    CapabilityReport,
    FormValue,
    Grant,
    Identity,
    IdentityProbe,
    redirect_uri,
)
from apps.platforms.instagram import client as instagram
from apps.platforms.instagram import rules as instagram_rules
from apps.platforms.instagram.signed_request import FORM_FIELD
from apps.platforms.types import Platform, TokenSet

if TYPE_CHECKING:
    from apps.connections.services.webhooks import WebhookOutcome

# Long-lived tokens (60 days) can be refreshed once 24 h old (PLATFORMS §2.5); we do it weekly,
# far ahead of the ~day-50 deadline.
REFRESH_AGE = timedelta(days=7)
MIN_REFRESH_AGE = timedelta(hours=24)


class InstagramProvider:
    platform: ClassVar[Platform] = Platform.INSTAGRAM
    publish_scopes: ClassVar[frozenset[str]] = instagram.PUBLISH_SCOPES
    # An expired long-lived token can't be refreshed: only a reconnect helps (PLATFORMS §4.1).
    reactive_refresh: ClassVar[bool] = False
    # The publishing limit doesn't show a restriction (25/2207050 comes only from publishing).
    probe_sees_bans: ClassVar[bool] = False
    # Refreshed weekly from day 1; a token this close to its end wasn't refreshed in time.
    expiry_warning: ClassVar[timedelta] = timedelta(days=10)
    # Meta's deauthorize and data-deletion callbacks, each a signed_request form (PLATFORMS §2).
    webhook_kinds: ClassVar[tuple[str, ...]] = ("deauthorize", "data-deletion")

    def authorize_url(self, *, state: str, verifier: str, force_login: bool) -> str:
        # Instagram Login documents no PKCE; the state alone binds the attempt (PLATFORMS §2.2).
        return instagram.authorize_url(
            redirect_uri=redirect_uri(self.platform), state=state, force_authentication=force_login
        )

    def exchange(self, *, code: str, verifier: str) -> Grant:
        short = instagram.exchange_code(code=code, redirect_uri=redirect_uri(self.platform))
        long_lived = instagram.exchange_long_lived(short_lived_token=short.access_token)
        profile = instagram.get_me(access_token=long_lived.access_token)
        identity = Identity(
            external_id=profile.user_id,
            app_scoped_id=profile.id or short.account_id,
            handle=profile.username,
            display_name=profile.name,
            avatar_url=profile.profile_picture_url,
            account_type=profile.account_type,
            professional=profile.is_professional,
        )
        return Grant(tokens=long_lived, identity=identity, scopes=short.scopes)

    def probe_identity(self, access_token: str) -> IdentityProbe:
        profile = instagram.get_me(access_token=access_token, fields=instagram.PROBE_FIELDS)
        return IdentityProbe(external_id=profile.user_id, professional=profile.is_professional)

    def probe_capability(self, access_token: str, *, external_id: str) -> CapabilityReport:
        limit = instagram.get_publishing_limit(access_token=access_token, ig_user_id=external_id)
        return CapabilityReport(
            quota_left=limit.remaining,
            quota_window_s=limit.quota_duration,
            detail={
                "quota_usage": limit.quota_usage,
                "quota_total": limit.quota_total,
                "quota_duration": limit.quota_duration,
            },
        )

    def refresh(self, *, access_token: str, refresh_token: str, issued_at: datetime) -> TokenSet:
        return instagram.refresh_long_lived(access_token=access_token, issued_at=issued_at)

    def refresh_not_before(self, issued_at: datetime) -> datetime | None:
        return issued_at + MIN_REFRESH_AGE

    def next_refresh_due(
        self, *, issued_at: datetime, access_expires_at: datetime | None
    ) -> datetime | None:
        return issued_at + REFRESH_AGE

    def revoke(self, access_token: str) -> bool:
        # No documented revoke endpoint for Instagram Login: best effort (PLATFORMS §2.12).
        return instagram.delete_permissions(access_token=access_token)

    def expiry_end(
        self, *, access_expires_at: datetime | None, refresh_expires_at: datetime | None
    ) -> datetime | None:
        return access_expires_at

    def expiry_end_field(self) -> str:
        return "access_expires_at"

    def refusal_for(self, *, error: str, error_reason: str) -> str | None:
        if (
            error == "access_denied"
            and error_reason == instagram_rules.NOT_PROFESSIONAL_ERROR_REASON
        ):
            return "personal account"
        return None

    def treats_as_refusal(self, identity: Identity) -> str | None:
        # PLATFORMS §2.1, §4.18: only professional accounts can publish.
        return None if identity.professional else "personal account"

    def receive_webhook(
        self, kind: str, *, raw_body: bytes, headers: Mapping[str, str], form_value: FormValue
    ) -> WebhookOutcome:
        from apps.connections.providers import (  # see instagram_webhooks' docstring
            instagram_webhooks,
        )

        receivers = {
            "deauthorize": instagram_webhooks.instagram_deauthorize_receive,
            "data-deletion": instagram_webhooks.instagram_data_deletion_receive,
        }
        if kind not in receivers:
            raise ValueError(f"unknown webhook kind {kind!r}")
        return receivers[kind](
            signed_request=form_value(FORM_FIELD), raw_body=raw_body, headers=headers
        )
