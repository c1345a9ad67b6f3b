"""Plain-dict views of sandbox state for the control API and page (tokens always masked)."""

from __future__ import annotations

from typing import Any

from apps.emulator import clock, tokens
from apps.emulator.grants import registered_redirect_uris
from apps.emulator.instagram.graph import container_status
from apps.emulator.models import (
    FaultRule,
    InstagramContainer,
    LedgerEntry,
    Platform,
    SandboxAccount,
    SandboxConfig,
    SandboxToken,
    TikTokPublish,
    WebhookDelivery,
)
from apps.emulator.state import webhook_target

ACCOUNT_TRAITS = [
    "username",
    "display_name",
    "description",
    "is_private",
    "is_verified",
    "max_video_post_duration_sec",
    "account_type",
    "comment_disabled",
    "duet_disabled",
    "stitch_disabled",
    "followers_count",
    "follows_count",
    "banned_from_posting",
    "checkpointed",
    "daily_post_cap",
]
CONFIG_FIELDS = [
    "tiktok_access_ttl",
    "tiktok_refresh_ttl",
    "tiktok_code_ttl",
    "instagram_code_ttl",
    "instagram_short_ttl",
    "instagram_long_ttl",
    "instagram_token_shape",
    "tiktok_processing_seconds",
    "tiktok_moderation_seconds",
    "instagram_processing_seconds",
    "tiktok_client_audited",
    "tiktok_active_user_cap",
    "tiktok_verified_url_prefixes",
    "tiktok_registered_redirect_uris",
    "instagram_registered_redirect_uris",
    "tiktok_webhook_url",
    "instagram_deauthorize_url",
    "instagram_data_deletion_url",
    "instagram_signing_secret",
    "webhooks_enabled",
]


def account(a: SandboxAccount) -> dict[str, Any]:
    data: dict[str, Any] = {"key": a.key, "platform": a.platform}
    data.update({f: getattr(a, f) for f in ACCOUNT_TRAITS})
    data.update(
        {
            "open_id": a.open_id,
            "union_id": a.union_id,
            "ig_user_id": a.ig_user_id,
            "app_scoped_id": a.app_scoped_id,
            "password_version": a.password_version,
            "quota_exhausted_at": a.quota_exhausted_at,
            "is_professional": a.is_professional,
        }
    )
    return data


def token(t: SandboxToken) -> dict[str, Any]:
    problem = tokens.problem(t)
    return {
        "id": t.pk,
        "kind": t.kind,
        "account": t.account.key,
        "token": t.masked,
        "scopes": t.scope_list,
        "issued_at": t.issued_at,
        "expires_at": t.expires_at,
        "state": problem or "live",
    }


def config(c: SandboxConfig) -> dict[str, Any]:
    data = {f: getattr(c, f) for f in CONFIG_FIELDS}
    data["clock_offset_seconds"] = c.clock_offset_seconds
    data["now"] = clock.now()
    data["effective_targets"] = {
        name: webhook_target(name)
        for name in ("tiktok", "instagram_deauthorize", "instagram_data_deletion")
    }
    # Switchboard's own callback plus the extra ones: every URI the authorize page accepts.
    data["effective_redirect_uris"] = {p: registered_redirect_uris(p) for p in Platform.values}
    return data


def fault(f: FaultRule) -> dict[str, Any]:
    return {
        "id": f.pk,
        "endpoint": f.endpoint,
        "error": f.error,
        "http_status": f.http_status,
        "body": f.body,
        "rate": f.rate,
        "latency_ms": f.latency_ms,
        "lost_response": f.lost_response,
        "remaining": f.remaining,
        "hits": f.hits,
    }


def ledger(e: LedgerEntry) -> dict[str, Any]:
    return {
        "platform": e.platform,
        "account": e.account.key,
        "source_ref": e.source_ref,
        "post_id": e.post_id,
        "shortcode": e.shortcode,
        "caption": e.caption,
        "privacy_level": e.privacy_level,
        "video_sha256": e.video_sha256,
        "video_bytes": e.video_bytes,
        "duration_ms": e.duration_ms,
        "published_at": e.published_at,
    }


def delivery(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.pk,
        "kind": d.kind,
        "url": d.url,
        "body": d.body,
        "headers": d.headers,
        "status_code": d.status_code,
        "response_body": d.response_body,
        "error": d.error,
        "sent_at": d.sent_at,
    }


def publish(p: TikTokPublish) -> dict[str, Any]:
    return {
        "publish_id": p.publish_id,
        "account": p.account.key,
        "flow": p.flow,
        "source": p.source,
        "phase": p.phase,
        "status": p.status,
        "fail_reason": p.fail_reason,
        "uploaded_bytes": p.uploaded_bytes,
        "video_size": p.video_size,
        "created_at": p.created_at,
    }


def container(c: InstagramContainer) -> dict[str, Any]:
    return {
        "id": c.container_id,
        "account": c.account.key,
        "video_url": c.video_url,
        "status_code": container_status(c),
        "error": c.pending_error_message,
        "created_at": c.created_at,
    }
