"""Connect and reconnect through the sandbox, and every OAuth attack refused with nothing stored."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.connections import tasks
from apps.connections.models import (
    AuthorizationRequest,
    Capability,
    Credential,
    LinkedAccount,
    State,
    StateChange,
)
from tests.connections.conftest import SCOPES, callback_path, staff_client
from tests.connections.helpers import captured_tasks
from tests.contract.helpers import query_of
from tests.factories import ClientFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def text(response) -> str:
    return html.unescape(response.content.decode())


def result_of(http, response):
    """The page the callback redirected to (post/redirect/get): 200, and the same on reload."""
    assert response.status_code == 302, response.content[:300]
    assert response["Location"].startswith("/connections/oauth-result/"), response["Location"]
    page = http.get(response["Location"])
    assert page.status_code == 200
    return page


@pytest.mark.parametrize(
    ("platform", "sandbox_account", "handle"),
    [("tiktok", "tt-public", "sbx.creator"), ("instagram", "ig-business", None)],
)
def test_it_connects_an_account_through_the_platform(
    sandbox, oauth, staff_member, client_obj, platform, sandbox_account, handle
):
    http = staff_client(staff_member)
    response = oauth(http, client_obj, platform, account=sandbox_account)
    account = LinkedAccount.objects.get(client=client_obj, platform=platform)
    assert response.status_code == 302 and response["Location"] == f"/connections/{account.pk}/"
    assert account.state == State.ACTIVE
    assert account.publish_capability == Capability.OK
    assert set(SCOPES[platform]) <= set(account.granted_scopes)
    assert account.connected_by == staff_member
    if handle:
        assert account.handle == handle
    credential = Credential.objects.get(account=account)
    assert credential.access_token and not credential.access_token.startswith(("act.", "IG"))
    assert (
        AuditEvent.objects.filter(action="connection.connected", target_id=str(account.pk)).count()
        == 1
    )
    request = AuthorizationRequest.objects.get()
    assert request.outcome == "connected" and request.consumed_at is not None


def test_a_missing_publishing_scope_sets_the_capability(sandbox, oauth, staff_member, client_obj):
    http = staff_client(staff_member)
    oauth(http, client_obj, "tiktok", scopes=("user.info.basic", "user.info.profile"))
    account = LinkedAccount.objects.get()
    assert account.state == State.ACTIVE
    assert account.publish_capability == Capability.MISSING_SCOPE
    assert "video.publish" in account.capability_reason


def test_access_denied_stores_nothing(sandbox, staff_member, client_obj):
    http = staff_client(staff_member)
    start = http.post(f"/clients/{client_obj.slug}/connect/tiktok/")
    state = query_of(start["Location"])["state"]
    response = http.get(
        "/oauth/callback/tt/",
        {"state": state, "error": "access_denied", "error_description": "The user denied"},
    )
    page = result_of(http, response)
    assert "Connection cancelled" in text(page) and "not granted" in text(page)
    assert not LinkedAccount.objects.exists()
    assert AuthorizationRequest.objects.get().outcome == "denied"


def _start(http, client_obj, platform="tiktok"):
    start = http.post(f"/clients/{client_obj.slug}/connect/{platform}/")
    return query_of(start["Location"])


def test_a_forged_state_is_refused(sandbox, staff_member, client_obj):
    http = staff_client(staff_member)
    params = _start(http, client_obj)
    grant = sandbox.authorize(
        "tt-public",
        SCOPES["tiktok"],
        params["redirect_uri"],
        state="forged",
        code_challenge=params["code_challenge"],
    )
    response = http.get(callback_path(grant["redirect"]))
    assert response.status_code == 400
    assert "doesn't match any connection" in text(response)
    assert not LinkedAccount.objects.exists() and not Credential.objects.exists()


def test_a_replayed_state_is_refused(sandbox, oauth, staff_member, client_obj):
    http = staff_client(staff_member)
    params = _start(http, client_obj)
    grant = sandbox.authorize(
        "tt-public",
        SCOPES["tiktok"],
        params["redirect_uri"],
        state=params["state"],
        code_challenge=params["code_challenge"],
    )
    assert http.get(callback_path(grant["redirect"])).status_code == 302
    replay = http.get(callback_path(grant["redirect"]))
    assert replay.status_code == 400 and "already used" in text(replay)
    assert LinkedAccount.objects.count() == 1


def test_an_expired_state_is_refused(sandbox, staff_member, client_obj):
    http = staff_client(staff_member)
    params = _start(http, client_obj)
    grant = sandbox.authorize(
        "tt-public",
        SCOPES["tiktok"],
        params["redirect_uri"],
        state=params["state"],
        code_challenge=params["code_challenge"],
    )
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = http.get(callback_path(grant["redirect"]))
    assert "expired" in text(result_of(http, response))
    assert not LinkedAccount.objects.exists()


def test_a_state_from_another_users_session_is_refused(sandbox, staff_member, manager, client_obj):
    victim = staff_client(staff_member)
    params = _start(victim, client_obj)
    grant = sandbox.authorize(
        "tt-public",
        SCOPES["tiktok"],
        params["redirect_uri"],
        state=params["state"],
        code_challenge=params["code_challenge"],
    )
    attacker = staff_client(manager)  # another session, even one that may see the client
    response = attacker.get(callback_path(grant["redirect"]))
    assert response.status_code == 400 and "another browser session" in text(response)
    assert not LinkedAccount.objects.exists()
    # ...and the state is burnt: the victim can't complete it afterwards either.
    assert victim.get(callback_path(grant["redirect"])).status_code == 400


def test_a_code_for_another_client_cannot_be_attached(sandbox, staff_member, client_obj):
    """A valid state for one client with a code obtained for another: the code is bound to the
    other authorization's PKCE challenge (code injection, RFC 9700 §4.5), so the exchange is
    refused and the code links nothing to the client the state names."""
    other = ClientFactory(name="Other Brand")
    MembershipFactory(client=other, user=staff_member)
    http = staff_client(staff_member)
    params_a = _start(http, client_obj)
    params_b = _start(http, other)
    code_for_b = sandbox.authorize(
        "tt-public",
        SCOPES["tiktok"],
        params_b["redirect_uri"],
        state=params_b["state"],
        code_challenge=params_b["code_challenge"],
    )
    response = http.get(
        "/oauth/callback/tt/",
        {
            "state": params_a["state"],
            "code": code_for_b["code"],
            "scopes": ",".join(SCOPES["tiktok"]),
        },
    )
    assert "refused the sign-in" in text(result_of(http, response))
    assert not LinkedAccount.objects.exists() and not Credential.objects.exists()
    # Only the authorization the code was issued for (its state, its verifier) can use it.
    again = http.get(callback_path(code_for_b["redirect"]))
    assert again.status_code == 302
    assert list(LinkedAccount.objects.values_list("client__name", flat=True)) == ["Other Brand"]


def test_a_reply_on_the_other_platforms_callback_is_refused(sandbox, staff_member, client_obj):
    http = staff_client(staff_member)
    params = _start(http, client_obj, "tiktok")
    grant = sandbox.authorize(
        "tt-public",
        SCOPES["tiktok"],
        params["redirect_uri"],
        state=params["state"],
        code_challenge=params["code_challenge"],
    )
    path = callback_path(grant["redirect"]).replace("/oauth/callback/tt/", "/oauth/callback/ig/")
    response = http.get(path)
    assert response.status_code == 400 and "wrong platform" in text(response)
    assert not LinkedAccount.objects.exists()


@pytest.mark.parametrize(
    "next_path", ["https://evil.example/steal", "//evil.example/x", "/\\evil.example"]
)
def test_next_never_redirects_off_site(sandbox, staff_member, client_obj, next_path):
    http = staff_client(staff_member)
    start = http.post(f"/clients/{client_obj.slug}/connect/tiktok/", {"next": next_path})
    params = query_of(start["Location"])
    grant = sandbox.authorize(
        "tt-public",
        SCOPES["tiktok"],
        params["redirect_uri"],
        state=params["state"],
        code_challenge=params["code_challenge"],
    )
    response = http.get(callback_path(grant["redirect"]))
    assert response.status_code == 302
    assert response["Location"].startswith("/connections/")


def test_nothing_from_the_query_is_rendered_unescaped(sandbox, staff_member, client_obj):
    http = staff_client(staff_member)
    params = _start(http, client_obj)
    response = http.get(
        "/oauth/callback/tt/", {"state": params["state"], "error": "<script>alert(1)</script>"}
    )
    page = result_of(http, response)
    assert b"<script>alert(1)</script>" not in page.content
    assert b"&lt;script&gt;" in page.content


def test_the_same_account_on_another_client_is_refused_without_naming_it(
    sandbox, oauth, admin_user, client_obj
):
    secret_client = ClientFactory(name="Secret Client Name")
    http = staff_client(admin_user)
    oauth(http, secret_client, "tiktok")
    body = text(result_of(http, oauth(http, client_obj, "tiktok")))
    assert "already connected to another client" in body and "Secret Client Name" not in body
    assert LinkedAccount.objects.filter(client=client_obj).count() == 0


def test_a_personal_instagram_account_is_refused_with_how_to_switch(
    sandbox, staff_member, client_obj
):
    http = staff_client(staff_member)
    params = _start(http, client_obj, "instagram")
    grant = sandbox.authorize(
        "ig-business", SCOPES["instagram"], params["redirect_uri"], state=params["state"]
    )
    sandbox.action("ig-business", "make_personal")  # flips between consent and our profile fetch
    response = http.get(callback_path(grant["redirect"]))
    assert "Switch to professional account" in text(result_of(http, response))
    assert not LinkedAccount.objects.exists() and not Credential.objects.exists()


def test_reconnect_with_the_same_account_restores_it(sandbox, oauth, staff_member, client_obj):
    http = staff_client(staff_member)
    oauth(http, client_obj, "tiktok")
    account = LinkedAccount.objects.get()
    LinkedAccount.objects.filter(pk=account.pk).update(state=State.NEEDS_RECONNECT)
    response = oauth(http, client_obj, "tiktok", reconnect=account)
    account.refresh_from_db()
    assert response["Location"] == f"/connections/{account.pk}/"
    assert account.state == State.ACTIVE
    assert AuditEvent.objects.filter(
        action="connection.reconnected", target_id=str(account.pk)
    ).exists()


def test_reconnect_with_a_different_account_stops_on_the_mismatch_page(
    sandbox, oauth, staff_member, client_obj
):
    http = staff_client(staff_member)
    oauth(http, client_obj, "tiktok", account="tt-public")
    original = LinkedAccount.objects.get()
    response = oauth(http, client_obj, "tiktok", account="tt-private", reconnect=original)
    assert response.status_code == 302 and "/connections/mismatch/" in response["Location"]
    page = text(http.get(response["Location"]))
    assert "sbx.creator" in page and "sbx.private" in page
    assert LinkedAccount.objects.count() == 1  # nothing attached yet
    confirm = http.post(response["Location"], {"decision": "link"})
    new = LinkedAccount.objects.exclude(pk=original.pk).get()
    assert confirm["Location"] == f"/connections/{new.pk}/"
    assert new.handle == "sbx.private" and new.state == State.ACTIVE
    original.refresh_from_db()
    assert original.handle == "sbx.creator"  # the old one keeps its identity and history
    assert http.post(response["Location"], {"decision": "link"}).status_code == 302
    assert LinkedAccount.objects.count() == 2  # a double click links once


def test_cancelling_a_mismatch_attaches_nothing(sandbox, oauth, staff_member, client_obj):
    http = staff_client(staff_member)
    oauth(http, client_obj, "tiktok", account="tt-public")
    original = LinkedAccount.objects.get()
    response = oauth(http, client_obj, "tiktok", account="tt-private", reconnect=original)
    http.post(response["Location"], {"decision": "cancel"})
    assert LinkedAccount.objects.count() == 1
    assert (
        AuthorizationRequest.objects.get(
            pk=int(response["Location"].rstrip("/").split("/")[-1])
        ).pending_credential
        == ""
    )


# --- Audit and history of what a reconnect changed (DESIGN §5, §7) ------------------------------


def test_a_consent_cancelled_on_the_platform_is_audited(sandbox, oauth, staff_member, client_obj):
    http = staff_client(staff_member)
    oauth(http, client_obj, "instagram")
    account = LinkedAccount.objects.get()
    start = http.post(f"/connections/{account.pk}/reconnect/")
    state = query_of(start["Location"])["state"]
    http.get(
        "/oauth/callback/ig/",
        {
            "state": state,
            "error": "access_denied",
            "error_reason": "user_denied",
            "error_description": "The user denied your request",
        },
    )
    event = AuditEvent.objects.get(action="connection.denied")
    assert event.actor == staff_member and event.target_id == str(account.pk)
    assert event.data == {
        "error_reason": "user_denied",
        "error_description": "The user denied your request",
    }
    account.refresh_from_db()
    assert account.state == State.ACTIVE  # nothing else changed


def test_a_reconnect_losing_and_regaining_the_publishing_permission_is_audited_and_shown(
    sandbox, oauth, staff_member, client_obj
):
    http = staff_client(staff_member)
    oauth(http, client_obj, "tiktok")
    account = LinkedAccount.objects.get()
    fewer = ("user.info.basic", "user.info.profile", "video.list")

    oauth(http, client_obj, "tiktok", scopes=fewer, reconnect=account)

    account.refresh_from_db()
    assert account.state == State.ACTIVE
    assert account.publish_capability == Capability.MISSING_SCOPE
    lost = AuditEvent.objects.get(action="connection.capability_changed")
    assert lost.actor == staff_member and lost.target_id == str(account.pk)
    assert lost.data == {
        "from": "ok",
        "to": "missing_scope",
        "reason": account.capability_reason,
        "scopes_lost": ["video.publish"],
        "scopes_gained": [],
    }
    reconnected = AuditEvent.objects.get(action="connection.reconnected")
    assert reconnected.data["scopes_lost"] == ["video.publish"]
    [row] = StateChange.objects.filter(account=account)
    assert (row.from_state, row.to_state) == ("", State.ACTIVE)
    assert (
        row.reason == "Reconnected through OAuth; publishing permission not granted (video.publish)"
    )
    assert row.reason in text(http.get(f"/connections/{account.pk}/"))

    # Broken meanwhile, then reconnected with everything: the state move carries the news.
    LinkedAccount.objects.filter(pk=account.pk).update(state=State.NEEDS_RECONNECT)
    oauth(http, client_obj, "tiktok", reconnect=account)

    account.refresh_from_db()
    assert account.state == State.ACTIVE and account.publish_capability == Capability.OK
    regained = AuditEvent.objects.filter(action="connection.capability_changed").latest("id")
    assert regained.data == {
        "from": "missing_scope",
        "to": "ok",
        "reason": "",
        "scopes_lost": [],
        "scopes_gained": ["video.publish"],
    }
    latest = StateChange.objects.filter(account=account).first()
    assert (latest.from_state, latest.to_state) == (State.NEEDS_RECONNECT, State.ACTIVE)
    assert latest.reason == "Reconnected through OAuth; publishing permission granted again"


def test_a_reconnect_with_the_same_permissions_writes_history_but_no_capability_change(
    sandbox, oauth, staff_member, client_obj
):
    http = staff_client(staff_member)
    oauth(http, client_obj, "tiktok")
    account = LinkedAccount.objects.get()
    oauth(http, client_obj, "tiktok", reconnect=account)
    assert not AuditEvent.objects.filter(action="connection.capability_changed").exists()
    [row] = StateChange.objects.filter(account=account)
    assert row.reason == "Reconnected through OAuth"
    event = AuditEvent.objects.get(action="connection.reconnected")
    assert (event.data["scopes_lost"], event.data["scopes_gained"]) == ([], [])


def test_a_reconnect_ends_the_expiring_episode_so_the_next_one_is_emailed(
    sandbox, oauth, staff_member, client_obj
):
    http = staff_client(staff_member)
    oauth(http, client_obj, "tiktok")
    account = LinkedAccount.objects.get()
    LinkedAccount.objects.filter(pk=account.pk).update(expiring_notified_at=timezone.now())

    oauth(http, client_obj, "tiktok", reconnect=account)

    account.refresh_from_db()
    assert account.expiring_notified_at is None
    # When the new grant nears its end, the sweep picks the account up again.
    Credential.objects.filter(account=account).update(
        refresh_expires_at=timezone.now() + timedelta(days=3)
    )
    with captured_tasks() as calls:
        tasks.sweep()
    assert ("apps.connections.tasks.notify", (account.pk,)) in calls
