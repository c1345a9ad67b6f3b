"""Grants we don't keep (DESIGN §5): a refused or cancelled grant is revoked at the platform only
when no live link uses that platform account — TikTok's revoke and Instagram's permission removal
end the app's whole authorization for the user, so they would break the live link too.

End to end: our pages on the live server, the sandbox over real HTTP (its webhooks aimed at our
own receivers), and the live account's token tried at the sandbox afterwards.
"""

from __future__ import annotations

import html
import logging
from urllib.parse import urlsplit

import pytest
from django.test import Client as HttpClient

from apps.audit.models import AuditEvent
from apps.connections import vault
from apps.connections.models import AccountAttempt, AuthorizationRequest, LinkedAccount, State
from apps.connections.providers import provider_for
from apps.connections.services import links
from apps.platforms.instagram.rules import NOT_PROFESSIONAL_ERROR_REASON
from tests.connections.conftest import SCOPES, callback_path, staff_client
from tests.connections.helpers import connect
from tests.contract.helpers import Sandbox, query_of
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db(transaction=True)

GRANT_KINDS = {"tt_access", "tt_refresh", "ig_short", "ig_long"}


def text(response) -> str:
    return html.unescape(response.content.decode())


def assert_still_live(account: LinkedAccount) -> None:
    """The account is still active here, and its stored token still works at the sandbox."""
    account.refresh_from_db()
    assert account.state == State.ACTIVE, account.state_reason
    probe = vault.call_with_bearer(account, provider_for(account.platform).probe_identity)
    assert probe.external_id == account.external_id


def live_grants(sandbox: Sandbox, key: str) -> list[dict]:
    return [
        t
        for t in sandbox.state()["tokens"]
        if t["account"] == key and t["kind"] in GRANT_KINDS and t["state"] == "live"
    ]


def refused_event() -> AuditEvent:
    return AuditEvent.objects.get(action="connection.refused")


# --- A live link elsewhere keeps working -------------------------------------------------------


def test_a_brand_completing_a_link_with_an_account_live_on_another_client_breaks_nothing(
    sandbox, oauth, admin_user, manager, client_obj
):
    live = connect(oauth, admin_user, ClientFactory(name="Other Brand"), "tiktok")
    _, url = links.connect_link_create(client=client_obj, platform="tiktok", actor=manager)
    brand = HttpClient()
    start = brand.post(urlsplit(url).path)
    params = query_of(start["Location"])
    grant = sandbox.authorize(
        "tt-public",
        SCOPES["tiktok"],
        params["redirect_uri"],
        state=params["state"],
        code_challenge=params["code_challenge"],
    )

    response = brand.get(callback_path(grant["redirect"]))

    page = brand.get(response["Location"])
    assert page.status_code == 200
    assert "already connected to another client" in text(page)
    assert "Other Brand" not in text(page)
    assert_still_live(live)
    assert LinkedAccount.objects.count() == 1
    assert refused_event().data == {"reason": "other client", "revoke_at_platform": False}
    assert refused_event().actor_label == "connect-link"


def test_staff_connecting_an_instagram_account_live_elsewhere_breaks_nothing(
    sandbox, oauth, admin_user, client_obj
):
    live = connect(oauth, admin_user, ClientFactory(name="Other Brand"), "instagram")
    http = staff_client(admin_user)

    response = oauth(http, client_obj, "instagram")

    assert "already connected to another client" in text(http.get(response["Location"]))
    assert_still_live(live)
    assert refused_event().data == {"reason": "other client", "revoke_at_platform": False}


def test_cancelling_a_mismatch_keeps_the_returned_account_working_when_it_is_linked(
    sandbox, oauth, staff_member, client_obj
):
    original = connect(oauth, staff_member, client_obj, "tiktok", account="tt-public")
    returned = connect(oauth, staff_member, client_obj, "tiktok", account="tt-private")
    http = staff_client(staff_member)
    response = oauth(http, client_obj, "tiktok", account="tt-private", reconnect=original)
    assert "/connections/mismatch/" in response["Location"]

    cancel = http.post(response["Location"], {"decision": "cancel"})

    assert cancel["Location"] == f"/connections/{original.pk}/"
    assert_still_live(returned)
    assert_still_live(original)
    event = AuditEvent.objects.get(action="connection.mismatch_cancelled")
    assert event.actor == staff_member and event.target_id == str(original.pk)
    assert event.data == {
        "expected": "sbx.creator",
        "received": "sbx.private",
        "revoke_at_platform": False,
    }


def test_a_personal_instagram_account_that_is_still_linked_is_not_revoked(
    sandbox, oauth, admin_user, client_obj
):
    """Linked while professional, switched to personal since: connecting it again is refused
    with the help text, and the existing link's authorization is left alone."""
    live = connect(oauth, admin_user, client_obj, "instagram")
    http = staff_client(admin_user)

    response = oauth_personal_after_consent(sandbox, http, client_obj)

    assert "Switch to professional account" in text(http.get(response["Location"]))
    probe = vault.call_with_bearer(live, provider_for("instagram").probe_identity)
    assert probe.external_id == live.external_id  # the token still works
    assert refused_event().data == {"reason": "personal account", "revoke_at_platform": False}


# --- Nobody uses it: revoking is still right ---------------------------------------------------


def oauth_personal_after_consent(sandbox: Sandbox, http: HttpClient, client_obj):
    """Consent as ig-business, then make it personal before our profile fetch."""
    start = http.post(f"/clients/{client_obj.slug}/connect/instagram/")
    params = query_of(start["Location"])
    grant = sandbox.authorize(
        "ig-business", SCOPES["instagram"], params["redirect_uri"], state=params["state"]
    )
    sandbox.action("ig-business", "make_personal")
    return http.get(callback_path(grant["redirect"]))


def discarded_revoke() -> AccountAttempt:
    """The one attempt row of a discarded grant's revoke: no LinkedAccount, the platform account."""
    return AccountAttempt.objects.get(kind=AccountAttempt.Kind.REVOKE, account__isnull=True)


def test_a_personal_instagram_account_nobody_has_linked_is_revoked(
    sandbox, staff_member, client_obj
):
    http = staff_client(staff_member)

    response = oauth_personal_after_consent(sandbox, http, client_obj)

    assert "Switch to professional account" in text(http.get(response["Location"]))
    assert live_grants(sandbox, "ig-business") == []
    assert refused_event().data == {"reason": "personal account", "revoke_at_platform": True}
    attempt = discarded_revoke()
    assert (attempt.platform, attempt.external_id) == (
        "instagram",
        sandbox.account("ig-business")["ig_user_id"],
    )
    assert attempt.outcome == AccountAttempt.Outcome.OK and attempt.finished_at is not None


def test_a_failed_revoke_of_a_discarded_grant_is_recorded_and_logged(
    sandbox, oauth, staff_member, client_obj, caplog
):
    original = connect(oauth, staff_member, client_obj, "tiktok", account="tt-public")
    http = staff_client(staff_member)
    response = oauth(http, client_obj, "tiktok", account="tt-private", reconnect=original)
    sandbox.fault("tiktok.revoke", error="server_error")

    with caplog.at_level(logging.INFO, logger="apps.connections.services.oauth"):
        http.post(response["Location"], {"decision": "cancel"})

    attempt = discarded_revoke()
    assert (attempt.platform, attempt.external_id) == (
        "tiktok",
        sandbox.account("tt-private")["open_id"],
    )
    # A 500: whether TikTok acted is unknown.
    assert attempt.outcome == AccountAttempt.Outcome.UNKNOWN and attempt.error_code
    assert attempt.finished_at is not None
    assert "Could not revoke a discarded tiktok grant" in caplog.text
    assert_still_live(original)


def test_cancelling_a_mismatch_revokes_an_account_nobody_has_linked(
    sandbox, oauth, staff_member, client_obj
):
    original = connect(oauth, staff_member, client_obj, "tiktok", account="tt-public")
    http = staff_client(staff_member)
    response = oauth(http, client_obj, "tiktok", account="tt-private", reconnect=original)
    assert live_grants(sandbox, "tt-private")

    http.post(response["Location"], {"decision": "cancel"})

    assert live_grants(sandbox, "tt-private") == []
    assert_still_live(original)
    event = AuditEvent.objects.get(action="connection.mismatch_cancelled")
    assert event.data["revoke_at_platform"] is True
    attempt = discarded_revoke()
    assert (attempt.platform, attempt.external_id, attempt.outcome) == (
        "tiktok",
        sandbox.account("tt-private")["open_id"],
        AccountAttempt.Outcome.OK,
    )
    assert not original.attempts.exists()  # not hung on the account that was being reconnected
    # A second click finds nothing left to discard and records nothing more.
    http.post(response["Location"], {"decision": "cancel"})
    assert AuditEvent.objects.filter(action="connection.mismatch_cancelled").count() == 1
    assert AccountAttempt.objects.filter(account__isnull=True).count() == 1


# --- A personal account turned away on the consent page (PLATFORMS §2.2) ---------------------


@pytest.mark.django_db
def test_a_personal_account_turned_away_at_consent_gets_the_switching_help(
    staff_member, client_obj
):
    http = staff_client(staff_member)
    start = http.post(f"/clients/{client_obj.slug}/connect/instagram/")
    state = query_of(start["Location"])["state"]

    response = http.get(
        "/oauth/callback/ig/",
        {
            "state": state,
            "error": "access_denied",
            "error_reason": NOT_PROFESSIONAL_ERROR_REASON,
            "error_description": "This is a personal account.",
        },
    )

    page = http.get(response["Location"])
    body = text(page)
    assert page.status_code == 200
    assert "Switch to professional account" in body and "Connection cancelled" not in body
    assert not LinkedAccount.objects.exists()
    request = AuthorizationRequest.objects.get()
    assert request.outcome == "denied"
    event = AuditEvent.objects.get(action="connection.denied")
    assert event.actor == staff_member
    assert event.data == {
        "error_reason": NOT_PROFESSIONAL_ERROR_REASON,
        "error_description": "This is a personal account.",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("platform", "callback", "reason"),
    [
        ("instagram", "/oauth/callback/ig/", "user_denied"),
        # Only Instagram's consent page sends this reason; on TikTok it means nothing special.
        ("tiktok", "/oauth/callback/tt/", NOT_PROFESSIONAL_ERROR_REASON),
    ],
)
def test_other_denials_still_say_the_connection_was_cancelled(
    staff_member, client_obj, platform, callback, reason
):
    http = staff_client(staff_member)
    start = http.post(f"/clients/{client_obj.slug}/connect/{platform}/")
    state = query_of(start["Location"])["state"]
    response = http.get(
        callback, {"state": state, "error": "access_denied", "error_reason": reason}
    )
    body = text(http.get(response["Location"]))
    assert "Connection cancelled" in body and "Switch to professional account" not in body


def test_connecting_an_account_still_being_disconnected_is_refused_without_a_crash(
    sandbox, oauth, staff_member, client_obj
):
    """Its pending platform revoke would end the new grant too; nothing is linked or revoked."""
    from apps.connections.services.disconnect import account_disconnect
    from tests.connections.helpers import captured_tasks

    account = connect(oauth, staff_member, client_obj, "tiktok")
    with captured_tasks():  # the revoke task is not run: the disconnect stays pending
        account_disconnect(account=account, actor=staff_member)
    http = staff_client(staff_member)
    response = oauth(http, client_obj, "tiktok")
    assert response.status_code == 302
    page = http.get(response["Location"])
    assert page.status_code == 200
    assert "still being disconnected" in text(page)
    account.refresh_from_db()
    assert account.state == State.DISCONNECT_PENDING
    assert LinkedAccount.objects.filter(client=client_obj).count() == 1
    assert refused_event().data["revoke_at_platform"] is False


def test_a_personal_account_picked_on_the_sandbox_consent_page_gets_the_switching_help(
    sandbox, oauth, staff_member, client_obj
):
    """End to end: the sandbox turns the personal account away with our callback's error."""
    http = staff_client(staff_member)
    response = oauth(http, client_obj, "instagram", account="ig-personal")
    assert response.status_code == 302
    page = http.get(response["Location"])
    assert page.status_code == 200
    assert "Switch to professional account" in text(page)
    assert not LinkedAccount.objects.filter(client=client_obj).exists()
