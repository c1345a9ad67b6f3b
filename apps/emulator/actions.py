"""Platform-side actions (DESIGN §9): what a user or the platform does outside our app."""

from __future__ import annotations

from django.db import transaction

from apps.emulator import clock, tokens
from apps.emulator.models import Platform, SandboxAccount, TikTokPublish, WebhookDelivery
from apps.emulator.webhooks import send_instagram_callback, send_tiktok_event

# TikTok `authorization.removed` reasons (PLATFORMS §1.9).
REMOVAL_REASONS = {0: "unknown", 1: "user disconnected", 2: "account deleted", 3: "age changed",
                   4: "account banned", 5: "developer revoked"}  # fmt: skip


def fail_in_flight(account: SandboxAccount, reason: str) -> int:
    """Fail the account's unfinished TikTok publishes (e.g. `auth_removed`, §1.6(f))."""
    return TikTokPublish.objects.filter(
        account=account,
        phase__in=[TikTokPublish.Phase.UPLOADING, TikTokPublish.Phase.PROCESSING],
    ).update(phase=TikTokPublish.Phase.SETTLED, status="FAILED", fail_reason=reason)


def remove_app(
    account: SandboxAccount, *, reason: int = 1, revoked_as: str = "app_removed"
) -> WebhookDelivery:
    """The user removes the app (or the app revokes): tokens die first, then the callback.

    TikTok: `authorization.removed` webhook with `reason` (the token is already revoked when it
    arrives, §1.9). Instagram: the deauthorize callback with a signed_request (§2.11).
    """
    with transaction.atomic():
        tokens.revoke_all(account, revoked_as)
        if account.platform == Platform.TIKTOK:
            fail_in_flight(account, "auth_removed")
    if account.platform == Platform.TIKTOK:
        return send_tiktok_event(account, "authorization.removed", {"reason": reason})
    return send_instagram_callback(account, "instagram_deauthorize")


def request_data_deletion(account: SandboxAccount) -> WebhookDelivery:
    """The user asks Instagram to delete their data: the data-deletion callback (§2.11)."""
    return send_instagram_callback(account, "instagram_data_deletion")


def change_password(account: SandboxAccount) -> None:
    """Every token issued before now stops working (IG 190/460; TikTok access_token_invalid)."""
    account.password_version += 1
    account.save(update_fields=["password_version"])


def set_flag(account: SandboxAccount, field: str, value: bool) -> None:
    setattr(account, field, value)
    account.save(update_fields=[field])


def exhaust_quota(account: SandboxAccount) -> None:
    """Use up the rolling 24 h posting quota (TikTok spam_risk_too_many_posts, IG 9/2207042)."""
    account.quota_exhausted_at = clock.now()
    account.save(update_fields=["quota_exhausted_at"])


def reset_quota(account: SandboxAccount) -> None:
    account.quota_exhausted_at = None
    account.save(update_fields=["quota_exhausted_at"])


def set_account_type(account: SandboxAccount, account_type: str) -> None:
    account.account_type = account_type
    account.save(update_fields=["account_type"])


ACTIONS = [
    "remove_app",
    "change_password",
    "checkpoint",
    "clear_checkpoint",
    "ban_posting",
    "unban_posting",
    "exhaust_quota",
    "reset_quota",
    "make_private",
    "make_public",
    "make_personal",
    "make_business",
    "make_creator",
    "request_data_deletion",
]


def perform(account: SandboxAccount, action: str, *, reason: int = 1) -> dict[str, object]:
    """Run a named action (the control page and API both come through here)."""
    result: dict[str, object] = {"account": account.key, "action": action}
    delivery: WebhookDelivery | None = None
    if action == "remove_app":
        delivery = remove_app(account, reason=reason)
    elif action == "request_data_deletion":
        if account.platform != Platform.INSTAGRAM:
            raise ValueError("request_data_deletion is an Instagram action")
        delivery = request_data_deletion(account)
    elif action == "change_password":
        change_password(account)
    elif action in {"checkpoint", "clear_checkpoint"}:
        set_flag(account, "checkpointed", action == "checkpoint")
    elif action in {"ban_posting", "unban_posting"}:
        set_flag(account, "banned_from_posting", action == "ban_posting")
    elif action == "exhaust_quota":
        exhaust_quota(account)
    elif action == "reset_quota":
        reset_quota(account)
    elif action in {"make_private", "make_public"}:
        if account.platform != Platform.TIKTOK:
            raise ValueError("privacy is a TikTok trait here")
        set_flag(account, "is_private", action == "make_private")
    elif action in {"make_personal", "make_business", "make_creator"}:
        if account.platform != Platform.INSTAGRAM:
            raise ValueError("account type is an Instagram trait")
        set_account_type(
            account,
            {
                "make_personal": "PERSONAL",
                "make_business": "BUSINESS",
                "make_creator": "MEDIA_CREATOR",
            }[action],
        )
    else:
        raise ValueError(f"unknown action {action!r}")
    if delivery is not None:
        result["delivery"] = {
            "id": delivery.pk,
            "url": delivery.url,
            "status_code": delivery.status_code,
            "error": delivery.error,
            "response_body": delivery.response_body,
        }
    return result
