"""Connect and reconnect through OAuth (DESIGN §5, §10).

`oauth_start` records an AuthorizationRequest (state + PKCE, 10 minutes, single use, bound to the
staff session or to a connect link) and returns the platform's consent URL. `oauth_complete`
consumes it exactly once, exchanges the code server-side, applies the identity guard and stores
the encrypted credential — or refuses with a message and stores nothing.

Every outcome is stored on the request, so the callback can redirect (post/redirect/get) to a
result page named by `result_key()` that reads it back with `outcome_text()`: a reload shows the
same result instead of replaying a consumed state.

A grant we don't keep is revoked at the platform only when no live link uses that platform
account: TikTok's revoke and Instagram's permission removal end the app's whole authorization for
the user, so they would break the live link too (DESIGN §5). Otherwise it is dropped locally.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.clients.models import Client
from apps.common import crypto
from apps.connections import vault
from apps.connections.lifecycle import account_set_capability, account_transition
from apps.connections.models import (
    AccountAttempt,
    AuthorizationRequest,
    Capability,
    ConnectLink,
    LinkedAccount,
    Platform,
    State,
    StateChange,
)
from apps.connections.providers import Grant, Identity, provider_for
from apps.connections.services import capability
from apps.connections.services.attempts import attempt_call
from apps.connections.services.refresh import next_refresh_due
from apps.connections.tallies import ACCOUNTS_BY_STATE
from apps.platforms.errors import PlatformError
from apps.platforms.instagram import rules as instagram_rules
from apps.platforms.types import TokenSet

logger = logging.getLogger(__name__)
Outcome = AuthorizationRequest.Outcome

DEFAULT_TITLE = "This connection didn't go through"
# PLATFORMS §2.1, §2.6: only professional accounts can publish. Shown whether the consent page
# turned the account away or our profile fetch found it personal.
PROFESSIONAL_ACCOUNT_HELP = (
    "This is a personal Instagram account. Publishing needs a professional account: "
    f"{instagram_rules.SWITCH_TO_PROFESSIONAL}, then connect again."
)
# Why a reply was not kept: the kind stored in AuthorizationRequest.outcome_detail (with an
# optional ": argument") → (title, message). One table, so the result page a reload shows says
# exactly what the callback decided.
_REFUSALS: dict[str, tuple[str, str]] = {
    "wrong platform": (
        DEFAULT_TITLE,
        "This reply came back on the wrong platform's address and was refused.",
    ),
    "other session": (
        DEFAULT_TITLE,
        "This connection was started in another browser session. Please start it again here.",
    ),
    "connect link": (DEFAULT_TITLE, "This connect link is {arg}. Ask your agency for a new one."),
    "expired": (
        DEFAULT_TITLE,
        "The connection took longer than 10 minutes and expired. Please start it again.",
    ),
    "denied": (
        "Connection cancelled",
        "Access was not granted on the platform's consent screen, so nothing was connected.",
    ),
    "personal account": ("A professional account is needed", PROFESSIONAL_ACCOUNT_HELP),
    "platform error": (
        DEFAULT_TITLE,
        "The platform reported an error ({arg}). Nothing was connected; please try again.",
    ),
    "no code": (
        DEFAULT_TITLE,
        "The platform's reply had no authorization code. Please try again.",
    ),
    "exchange failed": (DEFAULT_TITLE, "The platform refused the sign-in: {arg}"),
    "other client": (
        DEFAULT_TITLE,
        "This {platform} account is already connected to another client in Switchboard. "
        "Disconnect it there first, or connect a different account.",
    ),
    "disconnect pending": (
        DEFAULT_TITLE,
        "This {platform} account is still being disconnected from this client. Wait a minute "
        "for the disconnect to finish, then connect it again.",
    ),
    "linked concurrently": (
        DEFAULT_TITLE,
        "This account was connected by someone else a moment ago, so nothing was changed.",
    ),
}
_UNKNOWN_REFUSAL = (DEFAULT_TITLE, "This connection didn't complete. Please start it again.")

# Result pages: a signed request id, with a salt per audience so a staff key can't open the
# brand's page or the reverse. Long enough for a tab left open; a result never changes.
RESULT_PAGE_LIFETIME = timedelta(days=7)
_RESULT_SALTS = {False: "switchboard.oauth-result.staff", True: "switchboard.oauth-result.link"}


class OAuthRefused(Exception):
    """The callback cannot be accepted; `message` is safe to show to whoever is there.

    `auth_request` is set when the refusal is stored on an AuthorizationRequest whose reply came
    from the browser the attempt belongs to: the callback then redirects to its result page.
    """

    def __init__(
        self,
        message: str,
        *,
        title: str = DEFAULT_TITLE,
        auth_request: AuthorizationRequest | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.title = title
        self.auth_request = auth_request


@dataclass(frozen=True)
class OAuthResult:
    outcome: str
    auth_request: AuthorizationRequest
    account: LinkedAccount | None
    message: str


class _LinkedConcurrently(Exception):
    """Another attempt linked the same platform account between our check and our insert."""


def outcome_text(auth_request: AuthorizationRequest) -> tuple[str, str]:
    """Title and message for a stored outcome that is not a success (result pages)."""
    kind, _, arg = auth_request.outcome_detail.partition(": ")
    title, text = _REFUSALS.get(kind, _UNKNOWN_REFUSAL)
    return title, text.format(arg=arg, platform=auth_request.get_platform_display())


def result_key(auth_request: AuthorizationRequest) -> str:
    """The unguessable name of the page that shows `auth_request`'s outcome."""
    salt = _RESULT_SALTS[auth_request.connect_link_id is not None]
    return signing.TimestampSigner(salt=salt).sign(str(auth_request.pk))


def result_request(key: str, *, via_link: bool) -> AuthorizationRequest | None:
    """The finished request a result key names (staff or connect link); None when the key is
    bad, stale, or for the other audience."""
    try:
        pk = int(
            signing.TimestampSigner(salt=_RESULT_SALTS[via_link]).unsign(
                key, max_age=RESULT_PAGE_LIFETIME
            )
        )
    except (signing.BadSignature, ValueError):
        return None
    return (
        AuthorizationRequest.objects.select_related("client", "reconnect_of")
        .filter(pk=pk, connect_link__isnull=not via_link, consumed_at__isnull=False)
        .first()
    )


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
    auth_request = AuthorizationRequest.objects.create(
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
    return provider_for(platform).authorize_url(
        state=auth_request.state,
        verifier=auth_request.pkce_verifier,
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
        auth_request = (
            AuthorizationRequest.objects.select_for_update(of=("self",))
            .select_related("client", "connect_link", "reconnect_of")
            .filter(state=state)
            .first()
        )
        if auth_request is None:
            raise OAuthRefused(
                "This sign-in reply doesn't match any connection we started. "
                "Please start the connection again from Switchboard."
            )
        if auth_request.consumed_at is not None:
            raise OAuthRefused(
                "This sign-in reply was already used. Start a new connection if needed."
            )
        refusal = _binding_problem(auth_request, platform=platform, session_key=session_key)
        if refusal is None:
            auth_request.consumed_at = timezone.now()
            auth_request.save(update_fields=["consumed_at"])
    if refusal is not None:
        raise refusal
    return auth_request


def _binding_problem(
    auth_request: AuthorizationRequest, *, platform: str, session_key: str
) -> OAuthRefused | None:
    """Why this reply may not complete `auth_request` (recording the refusal), or None."""
    if auth_request.platform != platform:
        # Mix-up defence (RFC 9700 §4.4): the reply arrived on another platform's redirect.
        return _refuse(auth_request, Outcome.REFUSED, "wrong platform", shown=False)
    if auth_request.connect_link_id is not None:
        link = ConnectLink.objects.select_for_update().get(pk=auth_request.connect_link_id)
        if not link.is_open:
            return _refuse(auth_request, Outcome.REFUSED, "connect link", link.status)
    elif not session_key or auth_request.session_key_hash != AuthorizationRequest.hash_session_key(
        session_key
    ):
        return _refuse(auth_request, Outcome.REFUSED, "other session", shown=False)
    # After the binding checks, so only the browser the attempt belongs to gets a result page.
    if timezone.now() >= auth_request.expires_at:
        return _refuse(auth_request, Outcome.FAILED, "expired")
    return None


def _finish(
    auth_request: AuthorizationRequest, outcome: str, detail: str = "", **fields: Any
) -> None:
    auth_request.outcome = outcome
    auth_request.outcome_detail = detail[:300]
    auth_request.consumed_at = auth_request.consumed_at or timezone.now()
    for name, value in fields.items():
        setattr(auth_request, name, value)
    auth_request.save(update_fields=["outcome", "outcome_detail", "consumed_at", *fields])


def _refuse(
    auth_request: AuthorizationRequest,
    outcome: str,
    kind: str,
    arg: str = "",
    *,
    shown: bool = True,
) -> OAuthRefused:
    """Store why the reply is not kept (a `_REFUSALS` kind) and build the refusal saying so.

    `shown=False` for replies that may come from someone else's browser (mix-up, another
    session): they get the message once, never a result page.
    """
    _finish(auth_request, outcome, f"{kind}: {arg}" if arg else kind)
    title, message = outcome_text(auth_request)
    return OAuthRefused(message, title=title, auth_request=auth_request if shown else None)


def _actor(auth_request: AuthorizationRequest) -> tuple[Any, str | None]:
    if auth_request.connect_link_id is not None:
        return None, "connect-link"
    return auth_request.initiated_by, None


def oauth_complete(*, platform: str, params: dict[str, str], session_key: str = "") -> OAuthResult:
    """Handle the redirect back from the platform. Raises OAuthRefused with a clear message."""
    auth_request = _consume(
        state=params.get("state", ""), platform=platform, session_key=session_key
    )
    error = params.get("error", "")
    if error:
        raise _refuse_error_reply(
            auth_request,
            error=error,
            reason=params.get("error_reason", ""),
            description=params.get("error_description", ""),
        )
    code = params.get("code", "")
    if not code:
        raise _refuse(auth_request, Outcome.FAILED, "no code")
    try:
        grant = provider_for(platform).exchange(code=code, verifier=auth_request.pkce_verifier)
    except PlatformError as exc:
        raise _refuse(
            auth_request, Outcome.FAILED, "exchange failed", f"{exc.message} ({exc.code})"
        ) from None
    return _apply_grant(auth_request=auth_request, grant=grant)


@transaction.atomic
def _refuse_error_reply(
    auth_request: AuthorizationRequest, *, error: str, reason: str, description: str
) -> OAuthRefused:
    """The platform sent the person back with an error instead of a code: no tokens exist."""
    if error != "access_denied":
        return _refuse(auth_request, Outcome.FAILED, "platform error", error[:60])
    kind = provider_for(auth_request.platform).refusal_for(error=error, error_reason=reason)
    refusal = _refuse(auth_request, Outcome.DENIED, kind or "denied", reason[:60])
    actor, actor_label = _actor(auth_request)
    audit_record(
        action=AuditAction.CONNECTION_DENIED,
        actor=actor,
        actor_label=actor_label,
        client=auth_request.client,
        target=auth_request.reconnect_of,
        target_label=None
        if auth_request.reconnect_of
        else f"{auth_request.get_platform_display()} connect",
        data={"error_reason": reason[:100], "error_description": description[:200]},
    )
    return refusal


def _in_use(platform: str, external_id: str) -> bool:
    """Whether a live link (any client, any state but disconnected) uses this platform account."""
    return (
        bool(external_id)
        and LinkedAccount.objects.filter(platform=platform, external_id=external_id)
        .exclude(state=State.DISCONNECTED)
        .exists()
    )


def _drop_grant(platform: str, external_id: str, access_token: str, *, revoke: bool) -> None:
    """Forget tokens we won't keep, revoking them at the platform when `revoke` (see above).

    No live link uses the account when we revoke, so the attempt row names the platform account
    instead of a LinkedAccount (STYLE rule 8: every outbound revoke leaves a row).
    """
    if not revoke:
        return
    provider = provider_for(platform)
    try:
        attempt_call(
            account_id=None,
            platform=platform,
            external_id=external_id,
            kind=AccountAttempt.Kind.REVOKE,
            call=lambda: provider.revoke(access_token),
            confirmed=bool,
            unconfirmed="The platform did not confirm the removal of the discarded grant.",
        )
    except PlatformError:
        logger.info("Could not revoke a discarded %s grant", platform)


def _refuse_after_grant(auth_request: AuthorizationRequest, grant: Grant, kind: str) -> NoReturn:
    """We got tokens we will not keep: record the refusal, then drop them."""
    revoke = not _in_use(auth_request.platform, grant.identity.external_id)
    actor, actor_label = _actor(auth_request)
    with transaction.atomic():
        refusal = _refuse(auth_request, Outcome.REFUSED, kind)
        audit_record(
            action=AuditAction.CONNECTION_REFUSED,
            actor=actor,
            actor_label=actor_label,
            client=auth_request.client,
            target_label=f"{auth_request.get_platform_display()} @{grant.identity.handle}",
            data={"reason": kind, "revoke_at_platform": revoke},
        )
    _drop_grant(
        auth_request.platform,
        grant.identity.external_id,
        grant.tokens.access_token,
        revoke=revoke,
    )
    raise refusal


def _apply_grant(*, auth_request: AuthorizationRequest, grant: Grant) -> OAuthResult:
    identity = grant.identity
    refused = provider_for(auth_request.platform).treats_as_refusal(identity)
    if refused is not None:
        _refuse_after_grant(auth_request, grant, refused)
    existing = (
        LinkedAccount.objects.filter(
            platform=auth_request.platform, external_id=identity.external_id
        )
        .exclude(state=State.DISCONNECTED)
        .first()
    )
    if existing is not None and existing.client_id != auth_request.client_id:
        _refuse_after_grant(auth_request, grant, "other client")
    if existing is not None and existing.state == State.DISCONNECT_PENDING:
        # Its platform revoke is still to come and would end this new grant too.
        _refuse_after_grant(auth_request, grant, "disconnect pending")
    reconnect_of = auth_request.reconnect_of
    if reconnect_of is not None and reconnect_of.external_id != identity.external_id:
        with transaction.atomic():
            _finish(
                auth_request,
                Outcome.MISMATCH,
                "different account",
                pending_identity={**identity.__dict__, "scopes": sorted(grant.scopes or [])},
                pending_credential=crypto.encrypt(_tokens_json(grant.tokens)),
            )
            audit_record(
                action=AuditAction.CONNECTION_MISMATCH,
                actor=_actor(auth_request)[0],
                actor_label=_actor(auth_request)[1],
                client=auth_request.client,
                target=reconnect_of,
                data={"expected": reconnect_of.handle, "received": identity.handle},
            )
        return OAuthResult(Outcome.MISMATCH, auth_request, reconnect_of, "")
    try:
        return _link(auth_request=auth_request, grant=grant, target=reconnect_of or existing)
    except _LinkedConcurrently:
        _refuse_after_grant(auth_request, grant, "linked concurrently")


@transaction.atomic
def _link(
    *, auth_request: AuthorizationRequest, grant: Grant, target: LinkedAccount | None
) -> OAuthResult:
    actor, actor_label = _actor(auth_request)
    identity = grant.identity
    now = timezone.now()
    if target is not None and target.state == State.DISCONNECTED:
        target = None
    if target is None:
        try:
            with transaction.atomic():
                account = LinkedAccount.objects.create(
                    client=auth_request.client,
                    platform=auth_request.platform,
                    external_id=identity.external_id,
                    connected_by=actor,
                    connected_via_link=auth_request.connect_link,
                    connected_at=now,
                    state=State.ACTIVE,
                    state_reason="Connected",
                    state_changed_at=now,
                    last_checked_at=now,
                    last_ok_at=now,
                )
                ACCOUNTS_BY_STATE.changed()
        except IntegrityError:
            raise _LinkedConcurrently from None
        outcome, before = Outcome.CONNECTED, None
    else:
        account = LinkedAccount.objects.select_for_update().get(pk=target.pk)
        outcome = Outcome.RECONNECTED
        before = (account.publish_capability, frozenset(account.granted_scopes))
    _update_identity(account, identity, grant.scopes, now)
    credential = vault.credential_store(account=account, tokens=grant.tokens, obtained_at=now)
    credential.next_refresh_at = next_refresh_due(account, credential)
    credential.save(update_fields=["next_refresh_at"])
    # Checked at the next sweep: the capability probe finds bans and caps the grant can't show.
    account.next_check_at = now
    account.save(update_fields=["next_check_at"])
    missing = sorted(provider_for(account.platform).publish_scopes - set(account.granted_scopes))
    if grant.scopes is not None and missing:
        new_capability = Capability.MISSING_SCOPE
        capability_reason = f"Permission not granted: {', '.join(missing)}. Reconnect and allow it."
    elif account.publish_capability in (
        Capability.UNKNOWN,
        Capability.MISSING_SCOPE,
    ) or capability.lifted_by_new_grant(account):
        new_capability, capability_reason = Capability.OK, ""
    else:
        new_capability = None
    if new_capability is not None and before is None:
        # A new account's first capability is its starting value, not a change.
        account.publish_capability = new_capability
        account.capability_reason = capability_reason
        account.save(update_fields=["publish_capability", "capability_reason"])
    elif new_capability is not None and before is not None:
        scopes = frozenset(account.granted_scopes)
        account_set_capability(
            account=account,
            capability=new_capability,
            reason=capability_reason,
            actor=actor,
            actor_label=actor_label,
            data={
                "scopes_lost": sorted(before[1] - scopes),
                "scopes_gained": sorted(scopes - before[1]),
            },
        )
    if before is None:
        audit_record(
            action=AuditAction.CONNECTION_CONNECTED,
            actor=actor,
            actor_label=actor_label,
            client=account.client,
            target=account,
            data={"scopes": account.granted_scopes, "capability": account.publish_capability},
        )
    else:
        _record_reconnect(
            account, before=before, missing=missing, actor=actor, actor_label=actor_label, at=now
        )
    if auth_request.connect_link_id is not None:
        ConnectLink.objects.filter(pk=auth_request.connect_link_id).update(
            used_at=now, used_account=account
        )
        audit_record(
            action=AuditAction.CONNECT_LINK_COMPLETED,
            actor=None,
            actor_label="connect-link",
            client=account.client,
            target=account,
        )
    _finish(auth_request, outcome, "", result_account=account)
    verb = "connected" if outcome == Outcome.CONNECTED else "reconnected"
    return OAuthResult(outcome, auth_request, account, f"{account.label} is {verb}.")


def _record_reconnect(
    account: LinkedAccount,
    *,
    before: tuple[str, frozenset[str]],
    missing: list[str],
    actor: Any,
    actor_label: str | None,
    at: datetime,
) -> None:
    """History and audit of a reconnect, with what it changed in scopes and capability.

    The account page's history is StateChange rows; a reconnect that finds the account active
    moves no state, so it gets a row of its own (from_state blank: the state didn't move).
    """
    before_capability, before_scopes = before
    after_capability = account.publish_capability
    scopes = frozenset(account.granted_scopes)
    changes = {
        "scopes": account.granted_scopes,
        "scopes_lost": sorted(before_scopes - scopes),
        "scopes_gained": sorted(scopes - before_scopes),
    }
    reason = "Reconnected through OAuth"
    if after_capability == Capability.MISSING_SCOPE and before_capability != after_capability:
        reason += f"; publishing permission not granted ({', '.join(missing)})"
    elif before_capability == Capability.MISSING_SCOPE and after_capability != before_capability:
        reason += "; publishing permission granted again"
    if account.state != State.ACTIVE:
        account_transition(
            account=account,
            to=State.ACTIVE,
            reason=reason,
            actor=actor,
            actor_label=actor_label,
            action=AuditAction.CONNECTION_RECONNECTED,
            data=changes,
        )
    else:
        StateChange.objects.create(
            account=account,
            from_state="",
            to_state=account.state,
            reason=reason[:300],
            actor_label=(actor_label or (actor.label if actor is not None else "system"))[:255],
            occurred_at=at,
        )
        audit_record(
            action=AuditAction.CONNECTION_RECONNECTED,
            actor=actor,
            actor_label=actor_label,
            client=account.client,
            target=account,
            data=changes,
        )


def _update_identity(
    account: LinkedAccount, identity: Identity, scopes: frozenset[str] | None, now: Any
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
    # A new grant ends any "expiring" episode; the next one must be emailed again (DESIGN §5).
    account.expiring_notified_at = None
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
        auth_request = (
            AuthorizationRequest.objects.select_for_update(of=("self",))
            .select_related("client", "reconnect_of")
            .get(pk=request_id)
        )
        if not auth_request.pending_credential:
            raise OAuthRefused("This choice was already made.")
        if timezone.now() > auth_request.created_at + MISMATCH_CONFIRM_WINDOW:
            raise OAuthRefused("This choice expired. Please reconnect again.")
        pending = dict(auth_request.pending_identity)
        token_data = json.loads(crypto.decrypt(auth_request.pending_credential))
        auth_request.pending_credential = ""
        auth_request.save(update_fields=["pending_credential"])
    scopes = pending.pop("scopes", None)
    identity = Identity(**{k: v for k, v in pending.items() if k != "extra"})
    grant = Grant(
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
        LinkedAccount.objects.filter(
            platform=auth_request.platform, external_id=identity.external_id
        )
        .exclude(state=State.DISCONNECTED)
        .first()
    )
    if existing is not None and existing.client_id != auth_request.client_id:
        _refuse_after_grant(auth_request, grant, "other client")
    try:
        return _link(auth_request=auth_request, grant=grant, target=existing)
    except _LinkedConcurrently:
        _refuse_after_grant(auth_request, grant, "linked concurrently")


def oauth_cancel_mismatch(*, request_id: int, user: Any) -> None:
    """Discard a mismatching grant, audited. Its tokens are revoked at the platform only when
    no live link uses the account that came back (DESIGN §5)."""
    with transaction.atomic():
        auth_request = (
            AuthorizationRequest.objects.select_for_update(of=("self",))
            .select_related("client", "reconnect_of")
            .get(pk=request_id)
        )
        ciphertext = auth_request.pending_credential
        if not ciphertext:
            return  # already decided (a double click)
        received = dict(auth_request.pending_identity)
        revoke = not _in_use(auth_request.platform, str(received.get("external_id", "")))
        auth_request.pending_credential = ""
        auth_request.save(update_fields=["pending_credential"])
        audit_record(
            action=AuditAction.CONNECTION_MISMATCH_CANCELLED,
            actor=user,
            client=auth_request.client,
            target=auth_request.reconnect_of,
            data={
                "expected": auth_request.reconnect_of.handle if auth_request.reconnect_of else "",
                "received": str(received.get("handle", "")),
                "revoke_at_platform": revoke,
            },
        )
    token = json.loads(crypto.decrypt(ciphertext))["access_token"]
    _drop_grant(auth_request.platform, str(received.get("external_id", "")), token, revoke=revoke)
