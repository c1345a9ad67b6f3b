"""Extension points other apps register into, typed (DESIGN §3: publishing → connections).

Publishing registers its handlers from its `AppConfig.ready()`; the call sites here are explicit
(STYLE: no signals as hidden control flow).

- `PublishWorkHandler`: an account entered a state that blocks publishing (the lifecycle's
  ENTRY_EFFECTS): cancel or pause its pending publish work; returns how many items it touched.
  Runs inside the transition's transaction.
- `PublishEventHandler`: a verified TikTok `post.publish.*` webhook arrived; returns a short
  result for the stored event. Runs inside the webhook's transaction.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from apps.connections.models import LinkedAccount
    from apps.platforms.tiktok.webhooks import TikTokWebhook


class PublishWorkEffect(StrEnum):
    CANCEL = "cancel"  # the account is gone or must be authorized anew: the work is over
    PAUSE = "pause"  # a reconnect fixes it: the work waits


class PublishWorkHandler(Protocol):
    def __call__(
        self, *, account: LinkedAccount, effect: PublishWorkEffect, reason: str
    ) -> int: ...


class PublishEventHandler(Protocol):
    def __call__(self, *, account: LinkedAccount | None, event: TikTokWebhook) -> str: ...


_WORK_HANDLERS: list[PublishWorkHandler] = []
_EVENT_HANDLERS: list[PublishEventHandler] = []


def register_publish_work_handler(handler: PublishWorkHandler) -> None:
    if handler not in _WORK_HANDLERS:
        _WORK_HANDLERS.append(handler)


def register_publish_event_handler(handler: PublishEventHandler) -> None:
    if handler not in _EVENT_HANDLERS:
        _EVENT_HANDLERS.append(handler)


def unregister(handler: object) -> None:
    """For tests."""
    for handlers in (_WORK_HANDLERS, _EVENT_HANDLERS):
        while handler in handlers:
            handlers.remove(handler)  # type: ignore[arg-type]


def publish_work_blocked(*, account: LinkedAccount, effect: PublishWorkEffect, reason: str) -> int:
    return sum(handler(account=account, effect=effect, reason=reason) for handler in _WORK_HANDLERS)


def publish_event_received(*, account: LinkedAccount | None, event: TikTokWebhook) -> str:
    if not _EVENT_HANDLERS:
        return "stored; no publishing handler registered"
    return "; ".join(handler(account=account, event=event) for handler in _EVENT_HANDLERS)
