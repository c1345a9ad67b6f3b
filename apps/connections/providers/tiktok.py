"""TikTok's side of a connection (PLATFORMS §1, §4)."""

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
from apps.platforms.tiktok import client as tiktok
from apps.platforms.tiktok import rules as tiktok_rules
from apps.platforms.types import Platform, TokenSet

if TYPE_CHECKING:
    from apps.connections.services.webhooks import WebhookOutcome

# A TikTok access token is refreshed once less than this fraction of the lifetime actually
# granted is left (PLATFORMS §1.3: 2 h or 24 h, never hard-coded): 30 min of a 2 h token.
REFRESH_FRACTION = 0.25


class TikTokProvider:
    platform: ClassVar[Platform] = Platform.TIKTOK
    publish_scopes: ClassVar[frozenset[str]] = tiktok.PUBLISH_SCOPES
    # Access tokens live hours and the refresh token renews them (PLATFORMS §4.1).
    reactive_refresh: ClassVar[bool] = True
    # Creator info reports spam_risk_user_banned_from_posting (PLATFORMS §1.6(a)).
    probe_sees_bans: ClassVar[bool] = True
    # The refresh-token chain keeps its original deadline (§1.3): warn 14 days ahead (DESIGN §5).
    expiry_warning: ClassVar[timedelta] = timedelta(days=14)
    # One signed JSON webhook for every event (PLATFORMS §1.9).
    webhook_kinds: ClassVar[tuple[str, ...]] = ("events",)

    def authorize_url(self, *, state: str, verifier: str, force_login: bool) -> str:
        return tiktok.authorize_url(
            redirect_uri=redirect_uri(self.platform),
            state=state,
            code_challenge=tiktok.pkce_challenge(verifier=verifier),
            disable_auto_auth=force_login,
        )

    def exchange(self, *, code: str, verifier: str) -> Grant:
        tokens = tiktok.exchange_code(
            code=code, redirect_uri=redirect_uri(self.platform), code_verifier=verifier
        )
        user = tiktok.get_user_info(access_token=tokens.access_token)
        identity = Identity(
            external_id=user.open_id,
            handle=user.username,
            display_name=user.display_name,
            avatar_url=user.avatar_url,
            account_type="creator",
        )
        return Grant(tokens=tokens, identity=identity, scopes=tokens.scopes)

    def probe_identity(self, access_token: str) -> IdentityProbe:
        user = tiktok.get_user_info(access_token=access_token, fields=tiktok.PROBE_FIELDS)
        return IdentityProbe(external_id=user.open_id)

    def probe_capability(self, access_token: str, *, external_id: str) -> CapabilityReport:
        creator = tiktok.query_creator_info(access_token=access_token)
        return CapabilityReport(
            private=creator.is_private,
            detail={
                "nickname": creator.nickname,
                "privacy_level_options": list(creator.privacy_level_options),
                "privacy_labels": [
                    tiktok_rules.PRIVACY_LABELS.get(option, option)
                    for option in creator.privacy_level_options
                ],
                "max_video_post_duration_sec": creator.max_video_post_duration_sec,
                "comment_disabled": creator.comment_disabled,
                "duet_disabled": creator.duet_disabled,
                "stitch_disabled": creator.stitch_disabled,
            },
        )

    def refresh(self, *, access_token: str, refresh_token: str, issued_at: datetime) -> TokenSet:
        return tiktok.refresh_tokens(refresh_token=refresh_token)

    def refresh_not_before(self, issued_at: datetime) -> datetime | None:
        return None

    def next_refresh_due(
        self, *, issued_at: datetime, access_expires_at: datetime | None
    ) -> datetime | None:
        if access_expires_at is None:
            return None
        return access_expires_at - (access_expires_at - issued_at) * REFRESH_FRACTION

    def revoke(self, access_token: str) -> bool:
        tiktok.revoke_token(access_token=access_token)
        return True

    def expiry_end(
        self, *, access_expires_at: datetime | None, refresh_expires_at: datetime | None
    ) -> datetime | None:
        return refresh_expires_at

    def expiry_end_field(self) -> str:
        return "refresh_expires_at"

    def refusal_for(self, *, error: str, error_reason: str) -> str | None:
        return None

    def treats_as_refusal(self, identity: Identity) -> str | None:
        return None

    def receive_webhook(
        self, kind: str, *, raw_body: bytes, headers: Mapping[str, str], form_value: FormValue
    ) -> WebhookOutcome:
        from apps.connections.providers import tiktok_webhooks  # see tiktok_webhooks' docstring

        if kind != "events":
            raise ValueError(f"unknown webhook kind {kind!r}")
        return tiktok_webhooks.tiktok_webhook_receive(raw_body=raw_body, headers=headers)
