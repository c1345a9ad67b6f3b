"""Every URL that takes an object id, against every role (DESIGN §10: "every object URL tested
against every role").

The walk finds every URL pattern with a parameter. A pattern missing from MATRIX (and not in
NOT_OBJECT_URLS with a reason) fails the suite, so a new view cannot ship without its row.
Pages without a parameter whose content depends on the viewer (the all-clients calendar, one's
own profile) have rows too, built from no arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from apps.audit.actions import AuditAction
from apps.audit.models import ChainVerification
from apps.audit.services import audit_record
from apps.clients.models import ClientMembership
from apps.connections.models import AuthorizationRequest, LinkedAccount
from apps.connections.providers import all_providers
from apps.connections.services import oauth
from apps.publishing.models import CrossPost, MediaAsset, TargetState
from apps.staff.handoff.services import handoff_complete
from apps.staff.models import Invitation
from tests.factories import (
    ConnectLinkFactory,
    CrossPostFactory,
    LinkedAccountFactory,
    MediaAssetFactory,
    PublishTargetFactory,
)

ROLES = ("admin", "manager", "team_staff", "outsider", "other_manager", "anonymous")

# Patterns with parameters that are not our objects, and why.
NOT_OBJECT_URLS = {
    "staff:accept": "public invitation link; the token is the credential (tests/staff)",
    "connections:link_landing": (
        "public connect link for the brand; the signed single-use token is the credential "
        "(tests/connections/test_links.py)"
    ),
    "connections:link_result": (
        "the brand's page after a connect link's callback; the signed result key is the "
        "credential (tests/connections/test_oauth_results.py)"
    ),
    "connections:data_deletion_status": (
        "public status page Meta links users to; the unguessable confirmation code is the key "
        "(tests/connections/test_views.py)"
    ),
    "publishing:media_public": (
        "the signed, expiring URL a platform fetches a video from; the token is the credential "
        "and it never crosses clients (tests/publishing/test_media_public_url.py)"
    ),
}
NOT_OBJECT_NAMESPACES = {
    "emulator": "the platform sandbox plays TikTok/Instagram; it has its own auth",
    "admin": "Django admin, superusers only",
}


def _walk(patterns: list[Any], prefix: str = "", ns: str = "") -> Iterator[tuple[str, str]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            child_ns = ":".join(x for x in (ns, p.namespace) if x) if p.namespace else ns
            yield from _walk(p.url_patterns, prefix + str(p.pattern), child_ns)
        elif isinstance(p, URLPattern):
            full = prefix + str(p.pattern)
            name = f"{ns}:{p.name}" if ns and p.name else (p.name or "")
            if "<" in full or getattr(p.pattern, "converters", None) or "(?P<" in full:
                yield name, full


def _object_url_names() -> set[str]:
    names = set()
    for name, route in _walk(get_resolver().url_patterns):
        namespace = name.split(":")[0] if ":" in name else ""
        if namespace in NOT_OBJECT_NAMESPACES or name in NOT_OBJECT_URLS:
            continue
        if route.startswith("accounts/"):
            continue  # allauth's own keyed URLs (password reset keys etc.): allauth's checks
        if route.startswith("admin/"):
            continue  # Django admin: superusers only (tests/common/test_admin_site.py)
        names.add(name or route)
    return names


# url name -> (method, kwargs builder, expected status per role)
Builder = Callable[[dict[str, Any]], dict[str, Any]]
# A 302 to allauth's reauthentication page: the role passed the access check, and the sensitive
# action now wants a fresh password (DESIGN §1). A plain 302 must go anywhere else.
REAUTH = "302 to reauthenticate"
CLIENT_VIEW = {
    "admin": 200,
    "manager": 200,
    "team_staff": 200,
    "outsider": 404,
    "other_manager": 404,
    "anonymous": 302,
}
CLIENT_MANAGE_GET = {
    "admin": 200,
    "manager": 200,
    "team_staff": 404,
    "outsider": 404,
    "other_manager": 404,
    "anonymous": 302,
}
CLIENT_MANAGE_POST = {
    "admin": 302,
    "manager": 302,
    "team_staff": 404,
    "outsider": 404,
    "other_manager": 404,
    "anonymous": 302,
}
CLIENT_VIEW_POST = {
    "admin": 302,
    "manager": 302,
    "team_staff": 302,
    "outsider": 404,
    "other_manager": 404,
    "anonymous": 302,
}
CLIENT_VIEW_BAD_FORM = {**CLIENT_VIEW_POST, "admin": 400, "manager": 400, "team_staff": 400}
CLIENT_VIEW_REAUTH: dict[str, Any] = {
    **CLIENT_VIEW_POST,
    "admin": REAUTH,
    "manager": REAUTH,
    "team_staff": REAUTH,
}
CLIENT_MANAGE_REAUTH: dict[str, Any] = {**CLIENT_MANAGE_POST, "admin": REAUTH, "manager": REAUTH}
ADMIN_ONLY_REAUTH: dict[str, Any] = {
    "admin": REAUTH,
    "manager": 404,
    "team_staff": 404,
    "outsider": 404,
    "other_manager": 404,
    "anonymous": 302,
}
# Only the person who started a (re)connect decides its mismatch or reads its result page: both
# are bound to them.
INITIATOR_ONLY = {
    "admin": 404,
    "manager": 404,
    "team_staff": 200,
    "outsider": 404,
    "other_manager": 404,
    "anonymous": 302,
}
# Pages every signed-in role may open; what they show depends on who asks.
SIGNED_IN_GET = {
    "admin": 200,
    "manager": 200,
    "team_staff": 200,
    "outsider": 200,
    "other_manager": 200,
    "anonymous": 302,
}
ADMIN_ONLY_GET = {
    "admin": 200,
    "manager": 404,
    "team_staff": 404,
    "outsider": 404,
    "other_manager": 404,
    "anonymous": 302,
}
ADMIN_ONLY_POST = {
    "admin": 302,
    "manager": 404,
    "team_staff": 404,
    "outsider": 404,
    "other_manager": 404,
    "anonymous": 302,
}


def _no_object(w: dict[str, Any]) -> dict[str, Any]:
    return {}


def _slug(w: dict[str, Any]) -> dict[str, Any]:
    return {"slug": w["client"].slug}


def _membership(w: dict[str, Any]) -> dict[str, Any]:
    m = ClientMembership.objects.get(client=w["client"], user=w["team_staff"])
    return {"slug": w["client"].slug, "membership_id": m.pk}


def _invitation(w: dict[str, Any]) -> dict[str, Any]:
    inv = Invitation.objects.create(
        email="newcomer@agency.example",
        token_hash=Invitation.hash_token("t0k3n"),
        invited_by=w["admin"],
        expires_at=timezone.now() + timedelta(days=3),
    )
    return {"pk": inv.pk}


def _other_user(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["team_staff"].pk}


def _connect(w: dict[str, Any]) -> dict[str, Any]:
    return {"slug": w["client"].slug, "platform": "tiktok"}


def _make_account(w: dict[str, Any]) -> LinkedAccount:
    # No credential: even a role that passes the check cannot reach the platform from here.
    return LinkedAccountFactory(client=w["client"], external_id="open-matrix", handle="matrix")


def _account(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": _make_account(w).pk}


def _connect_link(w: dict[str, Any]) -> dict[str, Any]:
    link = ConnectLinkFactory(client=w["client"], platform="instagram", created_by=w["manager"])
    return {"pk": link.pk}


def _mismatch(w: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    request = AuthorizationRequest.objects.create(
        state="matrix-state",
        pkce_verifier="v" * 64,
        client=w["client"],
        platform="tiktok",
        initiated_by=w["team_staff"],
        session_key_hash="x",
        reconnect_of=_make_account(w),
        expires_at=now + AuthorizationRequest.LIFETIME,
        consumed_at=now,
        outcome=AuthorizationRequest.Outcome.MISMATCH,
        pending_identity={"external_id": "open-other", "handle": "someone.else"},
        pending_credential="ciphertext",
    )
    return {"request_id": request.pk}


def _oauth_result(w: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    request = AuthorizationRequest.objects.create(
        state="matrix-refused",
        pkce_verifier="v" * 64,
        client=w["client"],
        platform="tiktok",
        initiated_by=w["team_staff"],
        session_key_hash="x",
        expires_at=now + AuthorizationRequest.LIFETIME,
        consumed_at=now,
        outcome=AuthorizationRequest.Outcome.REFUSED,
        outcome_detail="other client",
    )
    return {"key": oauth.result_key(request)}


def _media_asset(w: dict[str, Any]) -> dict[str, Any]:
    # A stored file and poster, so a role that passes the check gets a 200, not a missing file.
    asset: MediaAsset = MediaAssetFactory(client=w["client"], size=5, file="")
    asset.file.save("clip.mp4", ContentFile(b"video"), save=False)
    asset.poster.save("poster.jpg", ContentFile(b"\xff\xd8\xff\xd9"), save=False)
    asset.save()
    return {"pk": asset.pk}


def _draft_post(w: dict[str, Any]) -> dict[str, Any]:
    # No video and no accounts: nothing for preflight or a platform to look at.
    post = CrossPostFactory(
        client=w["client"], media=None, scheduled_at=None, status=CrossPost.Status.DRAFT
    )
    return {"pk": post.pk}


def _scheduled_post(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": CrossPostFactory(client=w["client"], media=None).pk}


def _crosspost(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": CrossPostFactory(client=w["client"]).pk}


def _target(w: dict[str, Any], state: str) -> dict[str, Any]:
    target = PublishTargetFactory(
        crosspost__client=w["client"],
        linked_account=_make_account(w),
        state=state,
    )
    return {"pk": target.pk}


def _failed_target(w: dict[str, Any]) -> dict[str, Any]:
    return _target(w, TargetState.FAILED)


def _unconfirmed_target(w: dict[str, Any]) -> dict[str, Any]:
    # Without an answer the form is refused (400): the role passed the access check.
    return _target(w, TargetState.UNCONFIRMED)


def _audit_event(w: dict[str, Any]) -> dict[str, Any]:
    event = audit_record(
        action=AuditAction.CLIENT_EDITED, actor=w["manager"], client=w["client"], target=w["client"]
    )
    return {"pk": event.pk}


def _report(w: dict[str, Any]) -> dict[str, Any]:
    return {"slug": w["client"].slug, "year": 2026, "month": 11}


def _verification(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": ChainVerification.objects.create(started_by=w["admin"]).pk}


def _handoff(w: dict[str, Any]) -> dict[str, Any]:
    event = handoff_complete(
        actor=w["admin"],
        departing=w["team_staff"],
        receiving=w["outsider"],
        client_ids=[w["client"].pk],
    )
    return {"pk": event.pk}


MATRIX: dict[str, tuple[str, Builder, dict[str, Any]]] = {
    "clients:detail": ("get", _slug, CLIENT_VIEW),
    "clients:edit": ("get", _slug, CLIENT_MANAGE_GET),
    "clients:archive": ("post", _slug, CLIENT_MANAGE_POST),
    "clients:unarchive": ("post", _slug, CLIENT_MANAGE_POST),
    "clients:member_add": ("post", _slug, CLIENT_MANAGE_POST),
    "clients:member_remove": ("post", _membership, CLIENT_MANAGE_POST),
    "staff:invitation_revoke": ("post", _invitation, ADMIN_ONLY_POST),
    "staff:invitation_resend": ("post", _invitation, ADMIN_ONLY_POST),
    "staff:role": ("post", _other_user, ADMIN_ONLY_REAUTH),
    "staff:deactivate": ("post", _other_user, ADMIN_ONLY_REAUTH),
    "staff:reactivate": ("post", _other_user, ADMIN_ONLY_REAUTH),
    "staff:handoff_report": ("get", _handoff, ADMIN_ONLY_GET),
    "staff:profile": ("get", _no_object, SIGNED_IN_GET),
    "connections:connect": ("post", _connect, CLIENT_VIEW_REAUTH),
    "connections:account": ("get", _account, CLIENT_VIEW),
    "connections:check": ("post", _account, CLIENT_VIEW_POST),
    "connections:refresh": ("post", _account, CLIENT_VIEW_POST),
    "connections:reconnect": ("post", _account, CLIENT_VIEW_REAUTH),
    "connections:disconnect": ("post", _account, CLIENT_VIEW_REAUTH),
    "connections:mismatch": ("get", _mismatch, INITIATOR_ONLY),
    "connections:oauth_result": ("get", _oauth_result, INITIATOR_ONLY),
    "connections:link_create": ("post", _slug, CLIENT_MANAGE_REAUTH),
    "connections:link_revoke": ("post", _connect_link, CLIENT_MANAGE_POST),
    "publishing:media_library": ("get", _slug, CLIENT_VIEW),
    # Without a file the upload answers with a redirect back to the library and the reason.
    "publishing:media_upload": ("post", _slug, CLIENT_VIEW_POST),
    "publishing:media_detail": ("get", _media_asset, CLIENT_VIEW),
    "publishing:media_poster": ("get", _media_asset, CLIENT_VIEW),
    "publishing:media_preview": ("get", _media_asset, CLIENT_VIEW),
    "publishing:compose": ("get", _slug, CLIENT_VIEW),
    "publishing:preflight_new": ("post", _slug, CLIENT_VIEW),
    "publishing:edit": ("get", _draft_post, CLIENT_VIEW),
    "publishing:preflight": ("post", _draft_post, CLIENT_VIEW),
    "publishing:reschedule": ("get", _scheduled_post, CLIENT_VIEW),
    "publishing:cancel": ("post", _scheduled_post, CLIENT_VIEW_POST),
    # Every role's own clients (tests/publishing/test_calendar.py checks whose posts it shows).
    "publishing:calendar": ("get", _no_object, SIGNED_IN_GET),
    "publishing:client_calendar": ("get", _slug, CLIENT_VIEW),
    "publishing:post": ("get", _crosspost, CLIENT_VIEW),
    "publishing:post_targets": ("get", _crosspost, CLIENT_VIEW),
    "publishing:target_retry": ("post", _failed_target, CLIENT_VIEW_POST),
    "publishing:target_confirm": ("post", _unconfirmed_target, CLIENT_VIEW_BAD_FORM),
    # A client's audit trail is read by its team (DESIGN §1); the log across clients and the
    # export (no object in their URLs) are for managers and admins: tests/audit.
    "audit:event": ("get", _audit_event, CLIENT_VIEW),
    "audit:client": ("get", _slug, CLIENT_VIEW),
    "audit:account": ("get", _account, CLIENT_VIEW),
    "audit:report": ("get", _report, CLIENT_VIEW),
    "audit:verification": ("get", _verification, ADMIN_ONLY_GET),
}


def test_every_object_url_has_a_row():
    missing = _object_url_names() - set(MATRIX)
    assert not missing, f"Add these URLs to the permission matrix: {sorted(missing)}"


@pytest.fixture
def world(admin_user, manager, staff_member, outsider, other_manager, client_obj) -> dict[str, Any]:
    return {
        "admin": admin_user,
        "manager": manager,
        "team_staff": staff_member,
        "outsider": outsider,
        "other_manager": other_manager,
        "client": client_obj,
    }


@pytest.fixture
def platform_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call that would leave for TikTok/Instagram, recorded instead of made."""
    calls: list[str] = []
    names = (
        "authorize_url",
        "exchange",
        "probe_identity",
        "probe_capability",
        "refresh",
        "revoke",
    )
    for provider in all_providers():
        for name in names:

            def record(*args: Any, _name: str = name, **kwargs: Any) -> Any:
                calls.append(_name)
                raise AssertionError(f"platform call {_name} during an access check")

            monkeypatch.setattr(provider, name, record)
    return calls


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", sorted(MATRIX))
def test_role_gets_the_expected_status(client, world, platform_calls, url_name, role):
    method, build, expected = MATRIX[url_name]
    url = reverse(url_name, kwargs=build(world))
    if role != "anonymous":
        client.force_login(world[role])
    response = getattr(client, method)(url)
    want = expected[role]
    status = 302 if want == REAUTH else want
    assert response.status_code == status, f"{role} {method.upper()} {url}"
    location = response.get("Location", "")
    reauth_page = reverse("account_reauthenticate")
    if role == "anonymous":
        assert "/accounts/login/" in location
    elif want == REAUTH:
        assert location.startswith(reauth_page), f"{role} {method.upper()} {url} -> {location}"
    elif status == 302:
        assert not location.startswith((reauth_page, "/accounts/login/")), location
    assert platform_calls == [], f"{role} {method.upper()} {url} reached the platform"


@pytest.mark.django_db
def test_a_deactivated_users_old_session_gets_nothing(client, world):
    user = world["team_staff"]
    client.force_login(user)
    assert client.get(reverse("clients:detail", kwargs=_slug(world))).status_code == 200
    user.is_active = False
    user.save()
    response = client.get(reverse("clients:detail", kwargs=_slug(world)))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
