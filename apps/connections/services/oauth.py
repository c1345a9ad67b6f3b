"""Connect and reconnect through OAuth (DESIGN §5, §10).

`oauth_start` records an AuthorizationRequest (state + PKCE, 10 minutes, single use, bound to the
staff session or to a connect link) and returns the platform's consent URL. `oauth_complete`
consumes it exactly once, exchanges the code server-side, applies the identity guard and stores
the encrypted credential — or refuses with a message and stores nothing.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.clients.models import Client
from apps.common import crypto
from apps.connections import adapters, vault
from apps.connections.lifecycle import account_set_capability, account_transition
from apps.connections.models import (
    AuthorizationRequest,
    Capability,
    ConnectLink,
    LinkedAccount,
    Platform,
    State,
)
from apps.connections.services.health import spread_offset
from apps.connections.services.refresh import next_refresh_due
from apps.platforms.errors import PlatformError
from apps.platforms.types import TokenSet

logger = logging.getLogger(__name__)
Outcome = AuthorizationRequest.Outcome


class OAuthRefused(Exception):
    """The callback cannot be accepted; `message` is safe to show to whoever is there."""

    def __init__(self, message: str, *, title: str = "This connection didn't go through") -> None:
        super().__init__(message)
        self.message = message
        self.title = title


@dataclass(frozen=True)
class OAuthResult:
    outcome: str
    request: AuthorizationRequest
    account: LinkedAccount | None
    message: str


def _safe_next(path: str) -> str:
    # Only our own absolute paths: no scheme, no host, no protocol-relative "//evil".
    if path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path[:300]
    return ""


@transaction.atomic
def oauth_start(
    *,
    client: Client,
    platform: str,
    user: Any = None,
    session_key: str = "",
    connect_link: ConnectLink | None = None,
    reconnect_of: LinkedAccount | None = None,
    next_path: str = "",
) -> str:
    """Create the AuthorizationRequest and return the consent URL to redirect to."""
    platform = Platform(platform)
    if connect_link is None and not session_key:
        raise ValueError("A staff-initiated connect must be bound to a session.")
    if reconnect_of is not None and (
        reconnect_of.client_id != client.pk or reconnect_of.platform != platform
    ):
        raise ValueError("reconnect_of belongs to another client or platform.")
    now = timezone.now()
    request = AuthorizationRequest.objects.create(
        state=secrets.token_urlsafe(32),
        pkce_verifier=secrets.token_urlsafe(64)[:96],
        client=client,
        platform=platform,
        initiated_by=user if connect_link is None else None,
        connect_link=connect_link,
        session_key_hash=AuthorizationRequest.hash_session_key(session_key) if session_key else "",
        reconnect_of=reconnect_of,
        next_path=_safe_next(next_path),
        created_at=now,
        expires_at=now + AuthorizationRequest.LIFETIME,
    )
    return adapters.authorize_url(
        platform=platform,
        state=request.state,
        verifier=request.pkce_verifier,
        # A reconnect must let the person pick the right account, not reuse a platform session.
        force_login=reconnect_of is not None,
    )


def _consume(*, state: str, platform: str, session_key: str) -> AuthorizationRequest:
    """Claim the request exactly once, committed before any platform call is made.

    A refused reply burns the state too (single use, RFC 9700): the refusal is committed before
    OAuthRefused is raised.
    """
    if not state:
        raise OAuthRefused(
            "The platform's reply carried no state. Please start the connection again."
        )
    refusal: OAuthRefused | None = None
    with transaction.atomic():
        request = (
            AuthorizationRequest.objects.select_for_update(of=("self",))
            .select_related("client", "connect_link", "reconnect_of")
            .filter(state=state)
            .first()
        )
        if request is None:
            raise OAuthRefused(
                "This sign-in reply doesn't match any connection we started. "
                "Please start the connection again from Switchboard."
            )
        if request.consumed_at is not None:
            raise OAuthRefused(
                "This sign-in reply was already used. Start a new connection if needed."
            )
        refusal = _binding_problem(request, platform=platform, session_key=session_key)
        if refusal is None:
            request.consumed_at = timezone.now()
            request.save(update_fields=["consumed_at"])
    if refusal is not None:
        raise refusal
    return request


def _binding_problem(
    request: AuthorizationRequest, *, platform: str, session_key: str
) -> OAuthRefused | None:
    """Why this reply may not complete `request` (recording the refusal), or None."""
    if timezone.now() >= request.expires_at:
        _finish(request, Outcome.FAILED, "expired")
        return OAuthRefused(
            "The connection took longer than 10 minutes and expired. Please start it again."
        )
    if request.platform != platform:
        # Mix-up defence (RFC 9700 §4.4): the reply arrived on another platform's redirect.
        _finish(request, Outcome.REFUSED, "reply arrived on the wrong platform's callback")
        return OAuthRefused("This reply came back on the wrong platform's address and was refused.")
    if request.connect_link_id is not None:
        link = ConnectLink.objects.select_for_update().get(pk=request.connect_link_id)
        if not link.is_open:
            _finish(request, Outcome.REFUSED, f"connect link {link.status}")
            return OAuthRefused(
                f"This connect link is {link.status}. Ask your agency for a new one."
            )
    elif not session_key or request.session_key_hash != AuthorizationRequest.hash_session_key(
        session_key
    ):
        _finish(request, Outcome.REFUSED, "started in another browser session")
        return OAuthRefused(
            "This connection was started in another browser session. Please start it again here."
        )
    return None


def _finish(request: AuthorizationRequest, outcome: str, detail: str = "", **fields: Any) -> None:
    request.outcome = outcome
    request.outcome_detail = detail[:300]
    request.consumed_at = request.consumed_at or timezone.now()
    for name, value in fields.items():
        setattr(request, name, value)
    request.save(update_fields=["outcome", "outcome_detail", "consumed_at", *fields])


def _actor(request: AuthorizationRequest) -> tuple[Any, str | None]:
    if request.connect_link_id is not None:
        return None, "connect-link"
    return request.initiated_by, None


def oauth_complete(*, platform: str, params: dict[str, str], session_key: str = "") -> OAuthResult:
    """Handle the redirect back from the platform. Raises OAuthRefused with a clear message."""
    request = _consume(state=params.get("state", ""), platform=platform, session_key=session_key)
    error = params.get("error", "")
    if error:
        denied = error == "access_denied"
        _finish(request, Outcome.DENIED if denied else Outcome.FAILED, error)
        if denied:
            raise OAuthRefused(
                "Access was not granted on the platform's consent screen, "
                "so nothing was connected.",
                title="Connection cancelled",
            )
        raise OAuthRefused(
            f"The platform reported an error ({error[:60]}). "
            "Nothing was connected; please try again."
        )
    code = params.get("code", "")
    if not code:
        _finish(request, Outcome.FAILED, "no code")
        raise OAuthRefused("The platform's reply had no authorization code. Please try again.")
    try:
        grant = adapters.exchange(platform=platform, code=code, verifier=request.pkce_verifier)
    except PlatformError as exc:
        _finish(request, Outcome.FAILED, f"{exc.code}: exchange failed")
        raise OAuthRefused(f"The platform refused the sign-in: {exc.message}") from None
    return _apply_grant(request=request, grant=grant)


def _refuse_after_grant(
    request: AuthorizationRequest, grant: adapters.Grant, detail: str, message: str
) -> None:
    """We got tokens we will not keep: revoke them where possible, then refuse."""
    try:
        adapters.revoke(platform=request.platform, access_token=grant.tokens.access_token)
    except PlatformError:
        logger.info("Could not revoke the tokens of a refused %s grant", request.platform)
    with transaction.atomic():
        _finish(request, Outcome.REFUSED, detail)
        audit_record(
            action=AuditAction.CONNECTION_REFUSED,
            actor=_actor(request)[0],
            actor_label=_actor(request)[1],
            client=request.client,
            target_label=f"{request.get_platform_display()} @{grant.identity.handle}",
            data={"reason": detail},
        )
    raise OAuthRefused(message)


def _apply_grant(*, request: AuthorizationRequest, grant: adapters.Grant) -> OAuthResult:
    identity = grant.identity
    if request.platform == Platform.INSTAGRAM and not identity.professional:
        _refuse_after_grant(
            request,
            grant,
            "personal Instagram account",
            "This is a personal Instagram account. Publishing needs a professional account: in "
            "the Instagram app open Settings → Account type and tools → Switch to professional "
            "account (Business or Creator), then connect again.",
        )
    existing = (
        LinkedAccount.objects.filter(platform=request.platform, external_id=identity.external_id)
        .exclude(state=State.DISCONNECTED)
        .first()
    )
    if existing is not None and existing.client_id != request.client_id:
        _refuse_after_grant(
            request,
            grant,
            "account linked to another client",
            f"This {request.get_platform_display()} account is already connected to another "
            "client in Switchboard. Disconnect it there first, or connect a different account.",
        )
    reconnect_of = request.reconnect_of
    if reconnect_of is not None and reconnect_of.external_id != identity.external_id:
        with transaction.atomic():
            _finish(
                request,
                Outcome.MISMATCH,
                "different account",
                pending_identity={**identity.__dict__, "scopes": sorted(grant.scopes or [])},
                pending_credential=crypto.encrypt(_tokens_json(grant.tokens)),
            )
            audit_record(
                action=AuditAction.CONNECTION_MISMATCH,
                actor=_actor(request)[0],
                actor_label=_actor(request)[1],
                client=request.client,
                target=reconnect_of,
                data={"expected": reconnect_of.handle, "received": identity.handle},
            )
        return OAuthResult(Outcome.MISMATCH, request, reconnect_of, "")
    target = reconnect_of or existing
    return _link(request=request, grant=grant, target=target)


@transaction.atomic
def _link(
    *, request: AuthorizationRequest, grant: adapters.Grant, target: LinkedAccount | None
) -> OAuthResult:
    actor, actor_label = _actor(request)
    identity = grant.identity
    now = timezone.now()
    if target is not None and target.state == State.DISCONNECTED:
        target = None
    if target is None:
        try:
            with transaction.atomic():
                account = LinkedAccount.objects.create(
                    client=request.client,
                    platform=request.platform,
                    external_id=identity.external_id,
                    connected_by=actor,
                    connected_via_link=request.connect_link,
                    connected_at=now,
                    state=State.ACTIVE,
                    state_reason="Connected",
                    state_changed_at=now,
                    last_checked_at=now,
                    last_ok_at=now,
                )
        except IntegrityError:
            _finish(request, Outcome.REFUSED, "linked concurrently")
            raise OAuthRefused(
                "This account was connected by someone else a moment ago. Refresh the page."
            ) from None
        outcome, action = Outcome.CONNECTED, AuditAction.CONNECTION_CONNECTED
    else:
        account = LinkedAccount.objects.select_for_update().get(pk=target.pk)
        outcome, action = Outcome.RECONNECTED, AuditAction.CONNECTION_RECONNECTED
    _update_identity(account, identity, grant.scopes, now)
    credential = vault.credential_store(account=account, tokens=grant.tokens, obtained_at=now)
    credential.next_refresh_at = next_refresh_due(account, credential)
    credential.save(update_fields=["next_refresh_at"])
    account.next_check_at = now + spread_offset(account.pk)
    account.save(update_fields=["next_check_at"])
    missing = sorted(adapters.PUBLISH_SCOPES[account.platform] - set(account.granted_scopes))
    if grant.scopes is not None and missing:
        account_set_capability(
            account=account,
            capability=Capability.MISSING_SCOPE,
            reason=f"Permission not granted: {', '.join(missing)}. Reconnect and allow it.",
        )
    elif account.publish_capability in (Capability.UNKNOWN, Capability.MISSING_SCOPE):
        account_set_capability(account=account, capability=Capability.OK)
    if outcome == Outcome.RECONNECTED and account.state != State.ACTIVE:
        account_transition(
            account=account,
            to=State.ACTIVE,
            reason="Reconnected through OAuth",
            actor=actor,
            actor_label=actor_label,
            action=AuditAction.CONNECTION_RECONNECTED,
        )
    else:
        audit_record(
            action=action,
            actor=actor,
            actor_label=actor_label,
            client=account.client,
            target=account,
            data={"scopes": account.granted_scopes},
        )
    if request.connect_link_id is not None:
        ConnectLink.objects.filter(pk=request.connect_link_id).update(
            used_at=now, used_account=account
        )
        audit_record(
            action=AuditAction.CONNECT_LINK_COMPLETED,
            actor=None,
            actor_label="connect-link",
            client=account.client,
            target=account,
        )
    _finish(request, outcome, "", result_account=account)
    verb = "connected" if outcome == Outcome.CONNECTED else "reconnected"
    return OAuthResult(outcome, request, account, f"{account.label} is {verb}.")


def _update_identity(
    account: LinkedAccount, identity: adapters.Identity, scopes: frozenset[str] | None, now: Any
) -> None:
    account.handle = identity.handle[:150]
    account.display_name = identity.display_name[:200]
    account.avatar_url = identity.avatar_url[:1000]
    account.account_type = identity.account_type[:40]
    account.app_scoped_id = identity.app_scoped_id[:128]
    if scopes is not None:
        account.granted_scopes = sorted(scopes)
    account.granted_at = now
    account.last_checked_at = now
    account.last_ok_at = now
    account.last_error_code = ""
    account.last_error_message = ""
    account.save()


def _tokens_json(tokens: TokenSet) -> str:
    return json.dumps(
        {
            "access_token": tokens.access_token,
            "expires_in": tokens.expires_in,
            "refresh_token": tokens.refresh_token,
            "refresh_expires_in": tokens.refresh_expires_in,
            "account_id": tokens.account_id,
        }
    )


MISMATCH_CONFIRM_WINDOW = AuthorizationRequest.LIFETIME * 3


def oauth_confirm_mismatch(*, request_id: int, user: Any) -> OAuthResult:
    """The person confirmed the different account: link it as a new account (DESIGN §5)."""
    with transaction.atomic():
        request = (
            AuthorizationRequest.objects.select_for_update(of=("self",))
            .select_related("client", "reconnect_of")
            .get(pk=request_id)
        )
        if not request.pending_credential:
            raise OAuthRefused("This choice was already made.")
        if timezone.now() > request.created_at + MISMATCH_CONFIRM_WINDOW:
            raise OAuthRefused("This choice expired. Please reconnect again.")
        pending = dict(request.pending_identity)
        token_data = json.loads(crypto.decrypt(request.pending_credential))
        request.pending_credential = ""
        request.save(update_fields=["pending_credential"])
    scopes = pending.pop("scopes", None)
    identity = adapters.Identity(**{k: v for k, v in pending.items() if k != "extra"})
    grant = adapters.Grant(
        tokens=TokenSet(
            access_token=token_data["access_token"],
            expires_in=token_data["expires_in"],
            refresh_token=token_data["refresh_token"],
            refresh_expires_in=token_data["refresh_expires_in"],
            account_id=token_data["account_id"],
        ),
        identity=identity,
        scopes=frozenset(scopes) if scopes is not None else None,
    )
    existing = (
        LinkedAccount.objects.filter(platform=request.platform, external_id=identity.external_id)
        .exclude(state=State.DISCONNECTED)
        .first()
    )
    if existing is not None and existing.client_id != request.client_id:
        raise OAuthRefused(
            f"This {request.get_platform_display()} account is already connected to another client."
        )
    return _link(request=request, grant=grant, target=existing)


def oauth_cancel_mismatch(*, request_id: int) -> None:
    """Discard a mismatching grant; the tokens are revoked where the platform allows."""
    with transaction.atomic():
        request = AuthorizationRequest.objects.select_for_update().get(pk=request_id)
        ciphertext = request.pending_credential
        request.pending_credential = ""
        request.save(update_fields=["pending_credential"])
    if ciphertext:
        token = json.loads(crypto.decrypt(ciphertext))["access_token"]
        try:
            adapters.revoke(platform=request.platform, access_token=token)
        except PlatformError:
            logger.info("Could not revoke a discarded %s grant", request.platform)
