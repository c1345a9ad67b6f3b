"""The connection pages, request by request: the account page and its buttons, connect start,
the data-deletion status page, CSRF on every form (DESIGN §10, §11)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.clients.models import Client
from apps.connections.lifecycle import account_transition
from apps.connections.models import (
    AccountAttempt,
    AuthorizationRequest,
    Capability,
    Credential,
    LinkedAccount,
    State,
    WebhookEvent,
)
from apps.connections.services import disconnect
from tests.connections.conftest import staff_client
from tests.factories import ClientFactory, CredentialFactory, LinkedAccountFactory

ACCESS = "act.PLAINTEXT-ACCESS-TOKEN-never-shown"
REFRESH = "rft.PLAINTEXT-REFRESH-TOKEN-never-shown"


def text(response) -> str:
    return html.unescape(response.content.decode())


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- The account page -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_account_page_shows_state_with_evidence_and_never_a_token(
    client, staff_member, client_obj
):
    checked = timezone.now() - timedelta(minutes=5)
    account = LinkedAccountFactory(
        client=client_obj,
        handle="northwind.coffee",
        granted_scopes=["user.info.basic", "video.publish"],
        last_checked_at=checked,
        last_ok_at=checked,
    )
    credential = CredentialFactory(
        account=account,
        access=ACCESS,
        refresh=REFRESH,
        expires_in=86400,
        refresh_expires_in=10 * 86400,
        obtained_at=timezone.now() - timedelta(hours=1),
    )
    account_transition(account=account, to=State.REFRESH_FAILING, reason="Refresh timed out")
    account_transition(account=account, to=State.ACTIVE, reason="Refresh succeeded on retry")
    client.force_login(staff_member)

    response = client.get(f"/connections/{account.pk}/")

    assert response.status_code == 200
    body = text(response)
    assert "TikTok @northwind.coffee" in body
    assert 'data-testid="state-badge">Active<' in body
    assert "5\xa0minutes ago" in body or "5 minutes ago" in body  # last check, with its age
    assert f"expires {credential.access_expires_at:%-d %b %Y, %H:%M} UTC" in body
    assert f"expires {credential.refresh_expires_at:%-d %b %Y}" in body
    assert "user.info.basic" in body and "video.publish" in body
    assert "Can publish" in body
    # The refresh token ends within 14 days: the expiring warning with its date.
    assert f"A reconnect will be needed before {credential.refresh_expires_at:%d %b %Y}" in body
    # History, newest first, with reasons and who did it.
    assert body.index("Refresh succeeded on retry") < body.index("Refresh timed out")
    assert "Refresh failing" in body and "system" in body
    # The token, never — neither in plain text nor as ciphertext.
    for secret in (ACCESS, REFRESH, credential.access_token, credential.refresh_token):
        assert secret not in body
    assert "PLAINTEXT" not in body


@pytest.mark.django_db
def test_the_account_page_explains_a_broken_connection(client, staff_member, client_obj):
    account = LinkedAccountFactory(
        client=client_obj,
        last_error_code="access_token_invalid",
        last_error_message="The platform no longer accepts this token.",
        publish_capability=Capability.MISSING_SCOPE,
        capability_reason="Permission not granted: video.publish. Reconnect and allow it.",
    )
    account_transition(account=account, to=State.NEEDS_RECONNECT, reason="Password changed")
    client.force_login(staff_member)
    body = text(client.get(f"/connections/{account.pk}/"))
    assert "Needs reconnect" in body and "Password changed" in body
    assert "Publishing to this account is paused" in body
    assert "The platform no longer accepts this token." in body and "access_token_invalid" in body
    assert "Missing publishing permission" in body and "Reconnect and allow it" in body
    assert "Tokens</dt><dd>none stored" in body.replace("\n", "")
    assert ">Reconnect</button>" in body and "Refresh now" not in body  # nothing to refresh


@pytest.mark.django_db(transaction=True)
def test_check_now_through_the_sandbox(sandbox, oauth, staff_member, client_obj):
    http = staff_client(staff_member)
    oauth(http, client_obj, "tiktok")
    account = LinkedAccount.objects.get()
    LinkedAccount.objects.filter(pk=account.pk).update(
        last_checked_at=timezone.now() - timedelta(hours=3)
    )

    response = http.post(f"/connections/{account.pk}/check/", follow=True)

    assert response.redirect_chain[-1][0] == f"/connections/{account.pk}/"
    assert "Checked just now: the platform accepts the connection." in messages_of(response)
    account.refresh_from_db()
    assert timezone.now() - account.last_checked_at < timedelta(minutes=1)
    assert AuditEvent.objects.filter(action="connection.checked", actor=staff_member).count() == 1

    # The user changes the password on TikTok: the next check says so and what it means.
    sandbox.action("tt-public", "change_password")
    response = http.post(f"/connections/{account.pk}/check/", follow=True)
    [message] = messages_of(response)
    assert message.startswith("The check failed:")
    account.refresh_from_db()
    assert account.state == State.NEEDS_RECONNECT
    assert "Needs reconnect" in text(response)


@pytest.mark.django_db(transaction=True)
def test_refresh_now_through_the_sandbox(sandbox, oauth, staff_member, client_obj):
    http = staff_client(staff_member)
    oauth(http, client_obj, "tiktok")
    oauth(http, client_obj, "instagram")
    http.get("/")  # show (and so clear) the "connected" messages
    tiktok = LinkedAccount.objects.get(platform="tiktok")
    instagram = LinkedAccount.objects.get(platform="instagram")
    before = Credential.objects.get(account=tiktok)

    response = http.post(f"/connections/{tiktok.pk}/refresh/", follow=True)

    assert messages_of(response) == ["The token was refreshed."]
    after = Credential.objects.get(account=tiktok)
    assert after.access_token != before.access_token and after.last_refreshed_at is not None
    assert "refreshed" in text(response)  # "· refreshed … ago" next to the expiry

    # A fresh Instagram long-lived token can't be refreshed yet; the page says why.
    response = http.post(f"/connections/{instagram.pk}/refresh/", follow=True)
    [message] = messages_of(response)
    assert message.startswith("Not refreshed: Instagram accepts a refresh from ")

    # The refresh token died on the platform: an error message, and the state moves.
    sandbox.action("tt-public", "change_password")
    response = http.post(f"/connections/{tiktok.pk}/refresh/", follow=True)
    [message] = messages_of(response)
    assert message.startswith("Refresh failed")
    tiktok.refresh_from_db()
    assert tiktok.state != State.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_disconnect_flow(sandbox, oauth, staff_member, client_obj):
    http = staff_client(staff_member)
    oauth(http, client_obj, "tiktok")
    account = LinkedAccount.objects.get()
    page = text(http.get(f"/connections/{account.pk}/"))
    assert "Disconnect" in page and "data-confirm=" in page

    response = http.post(f"/connections/{account.pk}/disconnect/", follow=True)

    assert response.redirect_chain[-1][0] == f"/connections/{account.pk}/"
    [message] = messages_of(response)
    assert "is being disconnected" in message
    account.refresh_from_db()
    assert account.state == State.DISCONNECT_PENDING
    assert "Disconnect pending" in text(response)

    # The worker revokes at TikTok and deletes our tokens (queued after commit).
    disconnect.account_revoke_at_platform(account_id=account.pk)
    account.refresh_from_db()
    assert account.state == State.DISCONNECTED
    assert not Credential.objects.filter(account=account).exists()
    body = text(http.get(f"/connections/{account.pk}/"))
    assert "Disconnected" in body and "none stored" in body
    assert "Platform side</dt><dd>revoked" in body.replace("\n", "")
    # History stays visible; the actions are gone.
    assert "Disconnect pending" in body and "Check now" not in body and ">Reconnect<" not in body
    # A second click changes nothing.
    again = http.post(f"/connections/{account.pk}/disconnect/")
    assert again.status_code == 302
    assert AuditEvent.objects.filter(action="connection.disconnect_requested").count() == 1


@pytest.mark.django_db
def test_a_disconnect_needs_a_recent_password(client, staff_member, client_obj):
    account = LinkedAccountFactory(client=client_obj)
    client.force_login(staff_member)  # signed in, but not re-authenticated
    response = client.post(f"/connections/{account.pk}/disconnect/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    account.refresh_from_db()
    assert account.state == State.ACTIVE


# --- Connect start ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_connect_start_redirects_to_the_platform_with_state_and_pkce(staff_member, client_obj):
    http = staff_client(staff_member)
    response = http.post(f"/clients/{client_obj.slug}/connect/tiktok/")
    assert response.status_code == 302
    location = response["Location"]
    request = AuthorizationRequest.objects.get()
    assert f"state={request.state}" in location and "code_challenge_method=S256" in location
    assert request.initiated_by == staff_member and request.client == client_obj


@pytest.mark.django_db
def test_connect_start_is_refused_for_an_archived_client(staff_member, client_obj):
    Client.objects.filter(pk=client_obj.pk).update(status=Client.Status.ARCHIVED)
    http = staff_client(staff_member)
    response = http.post(f"/clients/{client_obj.slug}/connect/instagram/", follow=True)
    assert response.redirect_chain[-1][0] == f"/clients/{client_obj.slug}/"
    assert messages_of(response) == [
        "Northwind Coffee is archived; unarchive it to connect accounts."
    ]
    assert not AuthorizationRequest.objects.exists()
    assert "Connect TikTok" not in text(response)  # no connect buttons on an archived client


@pytest.mark.django_db
def test_connect_start_refuses_an_unknown_platform_and_get(staff_member, client_obj):
    http = staff_client(staff_member)
    assert http.post(f"/clients/{client_obj.slug}/connect/myspace/").status_code == 404
    assert http.get(f"/clients/{client_obj.slug}/connect/tiktok/").status_code == 405
    assert not AuthorizationRequest.objects.exists()


@pytest.mark.django_db
def test_a_reconnect_of_a_disconnected_account_is_refused(staff_member, client_obj):
    account = LinkedAccountFactory(client=client_obj, state=State.DISCONNECTED)
    http = staff_client(staff_member)
    response = http.post(f"/connections/{account.pk}/reconnect/", follow=True)
    assert "can't be reconnected" in messages_of(response)[0]
    assert not AuthorizationRequest.objects.exists()


# --- CSRF -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/clients/{slug}/connect/tiktok/",
        "/clients/{slug}/connect-links/",
        "/connections/{pk}/check/",
        "/connections/{pk}/refresh/",
        "/connections/{pk}/reconnect/",
        "/connections/{pk}/disconnect/",
    ],
)
def test_a_post_without_csrf_token_is_refused(manager, client_obj, path):
    account = LinkedAccountFactory(client=client_obj)
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(manager)
    audit_before = AuditEvent.objects.count()
    response = http.post(path.format(slug=client_obj.slug, pk=account.pk), {"platform": "tiktok"})
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.state == State.ACTIVE
    assert not AuthorizationRequest.objects.exists()
    assert AuditEvent.objects.count() == audit_before


@pytest.mark.django_db
def test_the_account_page_forms_carry_a_csrf_token(manager, client_obj):
    account = LinkedAccountFactory(client=client_obj)
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(manager)
    body = text(http.get(f"/connections/{account.pk}/"))
    forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", body, re.I | re.S)
    assert len(forms) >= 4  # check, refresh, reconnect, disconnect (+ the header's sign-out)
    assert all('name="csrfmiddlewaretoken"' in form for form in forms)


# --- Data deletion status (public) ------------------------------------------------------------


@pytest.mark.django_db
def test_the_data_deletion_status_page_shows_only_the_request(client):
    WebhookEvent.objects.create(
        platform="instagram",
        kind=WebhookEvent.Kind.IG_DATA_DELETION,
        verified=True,
        confirmation_code="del-123abc",
        external_id="26900000001",
        payload={"user_id": "26900000001"},
        processed_at=timezone.now(),
    )
    WebhookEvent.objects.create(
        platform="instagram",
        kind=WebhookEvent.Kind.IG_DATA_DELETION,
        verified=False,
        confirmation_code="forged-code",
    )
    response = client.get("/webhooks/ig/data-deletion/status/del-123abc/")
    assert response.status_code == 200
    body = text(response)
    assert "del-123abc" in body and "Completed" in body
    assert "26900000001" not in body
    assert client.get("/webhooks/ig/data-deletion/status/unknown/").status_code == 404
    # An unverified (forged) callback never gets a status page.
    assert client.get("/webhooks/ig/data-deletion/status/forged-code/").status_code == 404


# --- The health fragment ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_health_fragment_counts_only_visible_clients(client, staff_member, client_obj):
    LinkedAccountFactory(
        client=client_obj, state=State.REVOKED_ON_PLATFORM, state_reason="App removed on TikTok"
    )
    LinkedAccountFactory(client=ClientFactory(name="Hidden Brand"))
    client.force_login(staff_member)
    response = client.get("/connections/health/")
    assert response.status_code == 200
    body = text(response)
    assert 'hx-trigger="poll"' in body  # static/js/app.js decides when
    assert "Revoked on platform" in body and "App removed on TikTok" in body
    assert "Hidden Brand" not in body
    assert "1 account · 0 active" in body
    assert client.get("/connections/health/").status_code == 200
    client.logout()
    assert client.get("/connections/health/").status_code == 302


# --- The mismatch decision ----------------------------------------------------------------------


def _parked_mismatch(client_obj: Client, initiator) -> AuthorizationRequest:
    now = timezone.now()
    return AuthorizationRequest.objects.create(
        state="parked",
        pkce_verifier="v" * 64,
        client=client_obj,
        platform="tiktok",
        initiated_by=initiator,
        session_key_hash="x",
        reconnect_of=LinkedAccountFactory(client=client_obj, handle="northwind.coffee"),
        expires_at=now + AuthorizationRequest.LIFETIME,
        consumed_at=now,
        outcome=AuthorizationRequest.Outcome.MISMATCH,
        pending_identity={"external_id": "open-other", "handle": "someone.else"},
        pending_credential="not-decrypted-before-the-access-check",
    )


@pytest.mark.django_db
def test_only_the_initiator_decides_a_mismatch(client, manager, staff_member, client_obj):
    request = _parked_mismatch(client_obj, staff_member)
    client.force_login(manager)  # may see the client, but did not start this reconnect
    response = client.post(f"/connections/mismatch/{request.pk}/", {"decision": "link"})
    assert response.status_code == 404
    assert LinkedAccount.objects.count() == 1
    request.refresh_from_db()
    assert request.pending_credential  # untouched

    client.force_login(staff_member)
    body = text(client.get(f"/connections/mismatch/{request.pk}/"))
    assert "@northwind.coffee" in body and "@someone.else" in body
    assert "Add @someone.else as a new account of Northwind Coffee" in body


@pytest.mark.django_db
def test_a_decided_mismatch_says_so(client, staff_member, client_obj):
    request = _parked_mismatch(client_obj, staff_member)
    AuthorizationRequest.objects.filter(pk=request.pk).update(pending_credential="")
    client.force_login(staff_member)
    body = text(client.get(f"/connections/mismatch/{request.pk}/"))
    assert "This choice was already made." in body and 'name="decision"' not in body


@pytest.mark.django_db
def test_the_account_page_shows_what_the_platform_said_and_the_recent_attempts(
    client, staff_member, client_obj, django_assert_max_num_queries
):
    account = LinkedAccountFactory(
        client=client_obj,
        capability_checked_at=timezone.now() - timedelta(minutes=3),
        capability_detail={
            "nickname": "Northwind",
            "privacy_level_options": ["PUBLIC_TO_EVERYONE", "SELF_ONLY"],
            "privacy_labels": ["Everyone", "Only me"],
            "max_video_post_duration_sec": 300,
        },
    )
    for n in range(12):
        AccountAttempt.objects.create(
            account=account,
            kind=AccountAttempt.Kind.REFRESH,
            outcome=AccountAttempt.Outcome.OK if n else AccountAttempt.Outcome.FAILED,
            error_code="" if n else "invalid_grant",
            message="" if n else "TikTok refused the refresh token.",
            duration_ms=40 + n,
        )
    client.force_login(staff_member)
    with django_assert_max_num_queries(15):
        body = text(client.get(f"/connections/{account.pk}/"))
    assert "videos up to 300 s" in body and "posts as Northwind" in body
    assert "can post for everyone, only me" in body
    assert "Token refreshes and revokes" in body
    assert body.count("Token refresh</strong>") == 10  # the latest ten
    assert "TikTok refused the refresh token." not in body  # the oldest fell off


@pytest.mark.django_db
def test_the_account_page_shows_an_instagram_quota(client, staff_member, client_obj):
    account = LinkedAccountFactory(
        client=client_obj,
        platform="instagram",
        capability_checked_at=timezone.now(),
        capability_detail={"quota_usage": 97, "quota_total": 100, "quota_duration": 86400},
    )
    client.force_login(staff_member)
    body = text(client.get(f"/connections/{account.pk}/"))
    assert "97 of 100 posts used in the last 24 hours" in body
    assert "None yet." in body
