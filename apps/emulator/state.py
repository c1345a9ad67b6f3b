"""Sandbox configuration singleton, seeding of the sandbox users, and reset.

Seeding is lazy and idempotent (`ensure_seeded()`), so a fresh test database works without a
data migration and a reset simply deletes everything and seeds again.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import transaction

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

_NS = uuid.UUID("6f1c3c2e-8a4e-4e64-9a51-5b1d2f0c7a10")

# The seeded sandbox users (DESIGN §9): several per platform so the wrong-account case exists.
SEED_ACCOUNTS: list[dict[str, Any]] = [
    {
        "platform": Platform.TIKTOK,
        "key": "tt-public",
        "username": "sbx.creator",
        "display_name": "Sandbox Creator",
        "description": "Public TikTok creator, 5-minute videos",
        "max_video_post_duration_sec": 300,
        "followers_count": 1200,
    },
    {
        "platform": Platform.TIKTOK,
        "key": "tt-private",
        "username": "sbx.private",
        "display_name": "Private Sandbox",
        "description": "Private TikTok account (FOLLOWER_OF_CREATOR options)",
        "is_private": True,
        "max_video_post_duration_sec": 180,
        "followers_count": 40,
    },
    {
        "platform": Platform.TIKTOK,
        "key": "tt-short",
        "username": "sbx.shorts",
        "display_name": "Shorts Only",
        "description": "TikTok creator limited to 60-second videos",
        "max_video_post_duration_sec": 60,
        "followers_count": 300,
    },
    {
        "platform": Platform.INSTAGRAM,
        "key": "ig-business",
        "username": "sbx_business",
        "display_name": "Sandbox Business",
        "description": "Instagram business account",
        "account_type": "BUSINESS",
        "daily_post_cap": 100,
        "followers_count": 5400,
    },
    {
        "platform": Platform.INSTAGRAM,
        "key": "ig-creator",
        "username": "sbx_creator",
        "display_name": "Sandbox Creator IG",
        "description": "Instagram creator account",
        "account_type": "MEDIA_CREATOR",
        "daily_post_cap": 100,
        "followers_count": 880,
    },
    {
        "platform": Platform.INSTAGRAM,
        "key": "ig-personal",
        "username": "sbx_personal",
        "display_name": "Sandbox Personal",
        "description": "Personal (non-professional) Instagram account: Business Login refuses it",
        "account_type": "PERSONAL",
        "daily_post_cap": 100,
    },
]


def get_config() -> SandboxConfig:
    """The configuration row; creating it seeds the sandbox users on first use."""
    config = SandboxConfig.objects.filter(pk=1).first()
    if config is None:
        ensure_seeded()
        config = SandboxConfig.objects.get(pk=1)
    return config


def identity_for(platform: str, key: str, index: int) -> dict[str, str]:
    """Deterministic ids for an account, so tests and demos see stable values."""
    if platform == Platform.TIKTOK:
        return {
            "open_id": str(uuid.uuid5(_NS, "open_id:" + key)),
            "union_id": str(uuid.uuid5(_NS, "union_id:" + key)),
        }
    return {
        "ig_user_id": f"1784140{index:010d}",
        "app_scoped_id": f"2690000{index:010d}",
    }


@transaction.atomic
def ensure_seeded() -> None:
    """Create the config row and the seeded accounts if missing (idempotent)."""
    SandboxConfig.objects.get_or_create(pk=1)
    for index, spec in enumerate(SEED_ACCOUNTS, start=1):
        if SandboxAccount.objects.filter(key=spec["key"]).exists():
            continue
        SandboxAccount.objects.create(**spec, **identity_for(spec["platform"], spec["key"], index))


def create_account(**fields: Any) -> SandboxAccount:
    """Create an extra sandbox account; ids are derived from the key."""
    index = 1000 + SandboxAccount.objects.count()
    fields.setdefault("display_name", fields["username"])
    if fields["platform"] == Platform.INSTAGRAM:
        fields.setdefault("account_type", "BUSINESS")
        fields.setdefault("daily_post_cap", 100)
    return SandboxAccount.objects.create(
        **fields, **identity_for(fields["platform"], fields["key"], index)
    )


@transaction.atomic
def reset() -> None:
    """Forget everything (tokens, posts, faults, clock, config) and seed again."""
    for model in (
        WebhookDelivery,
        FaultRule,
        LedgerEntry,
        InstagramContainer,
        TikTokPublish,
        SandboxToken,
        SandboxAccount,
        SandboxConfig,
    ):
        model.objects.all().delete()
    ensure_seeded()


def default_target(name: str) -> str:
    """PUBLIC_BASE_URL + WEBHOOK_PATHS[name]: where callbacks go unless overridden."""
    return settings.PUBLIC_BASE_URL + settings.WEBHOOK_PATHS[name]


def webhook_target(name: str) -> str:
    config = get_config()
    override = {
        "tiktok": config.tiktok_webhook_url,
        "instagram_deauthorize": config.instagram_deauthorize_url,
        "instagram_data_deletion": config.instagram_data_deletion_url,
    }[name]
    return override or default_target(name)
