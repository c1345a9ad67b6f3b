"""What the connections app needs from a platform, in one shape (DESIGN §2 principle 8).

One `Provider` per platform, looked up by `Platform` in `apps.connections.providers`. The
platform packages (`apps/platforms/<platform>/`) own the wire format; a provider picks the
right calls, turns their results into these types, and holds the platform's connection rules
(refresh timing, expiry warnings, what "expired" means). Outside the providers, connections code
has no per-platform branches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from django.conf import settings
from django.db.models import Q

from apps.platforms.errors import PlatformError
from apps.platforms.types import Platform, TokenSet

if TYPE_CHECKING:
    # Not at run time: the webhook machinery needs the models, which need this registry.
    from apps.connections.services.webhooks import WebhookOutcome

# A form field of the callback's body by name (read only when a receiver asks for one).
FormValue = Callable[[str], str | None]


@dataclass(frozen=True)
class Identity:
    """Who a token belongs to, as the platform's profile call says."""

    external_id: str
    handle: str = ""
    display_name: str = ""
    avatar_url: str = ""
    account_type: str = ""
    app_scoped_id: str = ""
    professional: bool = True
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Grant:
    """The outcome of an OAuth code exchange: tokens, identity and the scopes actually granted
    (None when the platform didn't say)."""

    tokens: TokenSet
    identity: Identity
    scopes: frozenset[str] | None


@dataclass(frozen=True)
class IdentityProbe:
    """The cheapest identity call's answer (PLATFORMS §4, health probes)."""

    external_id: str
    professional: bool = True


@dataclass(frozen=True)
class CapabilityReport:
    """What the platform says about the account's ability to publish right now."""

    # Posts left in the platform's rolling window, when the platform reports it.
    quota_left: int | None = None
    quota_window_s: int | None = None
    # The account is private, when the platform says (decides what an unaudited app may do).
    private: bool | None = None
    # Shown on the account page: caps, privacy options, maximum duration. Never a token.
    detail: dict[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    """One platform's side of connecting an account."""

    platform: ClassVar[Platform]
    # Scopes a grant must hold for the account to publish.
    publish_scopes: ClassVar[frozenset[str]]
    # An "expired" answer is routine and a refresh fixes it (short-lived, refreshable tokens).
    reactive_refresh: ClassVar[bool]
    # The capability probe reports posting bans (otherwise only a publishing call does).
    probe_sees_bans: ClassVar[bool]
    # A reconnect must be done before this much is left of the credential's life.
    expiry_warning: ClassVar[timedelta]
    # The callbacks the platform sends us, each routed to `receive_webhook` (urls.py).
    webhook_kinds: ClassVar[tuple[str, ...]]

    def authorize_url(self, *, state: str, verifier: str, force_login: bool) -> str: ...

    def exchange(self, *, code: str, verifier: str) -> Grant:
        """Code → tokens → profile. Raises PlatformError."""
        ...

    def probe_identity(self, access_token: str) -> IdentityProbe: ...

    def probe_capability(self, access_token: str, *, external_id: str) -> CapabilityReport:
        """Bans and caps arrive as PlatformError."""
        ...

    def refresh(
        self, *, access_token: str, refresh_token: str, issued_at: datetime
    ) -> TokenSet: ...

    def refresh_not_before(self, issued_at: datetime) -> datetime | None:
        """The earliest moment the platform accepts a refresh of a token issued then."""
        ...

    def next_refresh_due(
        self, *, issued_at: datetime, access_expires_at: datetime | None
    ) -> datetime | None: ...

    def revoke(self, access_token: str) -> bool:
        """Revoke the grant at the platform; False when the platform didn't confirm."""
        ...

    def expiry_end(
        self, *, access_expires_at: datetime | None, refresh_expires_at: datetime | None
    ) -> datetime | None:
        """When the credential dies unless a human reconnects (what 'expiring' counts from)."""
        ...

    def expiry_end_field(self) -> str:
        """The Credential field holding `expiry_end`, for querysets."""
        ...

    def refusal_for(self, *, error: str, error_reason: str) -> str | None:
        """A consent-page error that means more than "cancelled": the refusal kind, or None."""
        ...

    def treats_as_refusal(self, identity: Identity) -> str | None:
        """Why a granted identity can't be linked (e.g. a personal Instagram account), or None."""
        ...

    def receive_webhook(
        self, kind: str, *, raw_body: bytes, headers: Mapping[str, str], form_value: FormValue
    ) -> WebhookOutcome:
        """Verify, store and process one callback of `kind` (one of `webhook_kinds`).

        Raises WebhookRejected (answered as plain text with its status) when it isn't provably
        from the platform or can't be read.
        """
        ...


def redirect_uri(platform: Platform | str) -> str:
    """The one fixed redirect URI of a platform (DESIGN §10)."""
    return settings.PUBLIC_BASE_URL + settings.OAUTH_REDIRECT_PATHS[str(platform)]


def expiring_q(provider: Provider, *, now: datetime, prefix: str = "") -> Q:
    """Accounts of `provider`'s platform whose credential dies within its warning window."""
    return Q(**{f"{prefix}platform": provider.platform}) & Q(
        **{f"{prefix}credential__{provider.expiry_end_field()}__lte": now + provider.expiry_warning}
    )


__all__ = [
    "CapabilityReport",
    "FormValue",
    "Grant",
    "Identity",
    "IdentityProbe",
    "PlatformError",
    "Provider",
    "expiring_q",
    "redirect_uri",
]
