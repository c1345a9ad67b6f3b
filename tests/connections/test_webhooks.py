"""Platform callbacks: TikTok webhooks (signature + timestamp window, dedupe) and Instagram's
deauthorize / data-deletion signed_requests, real ones from the sandbox and hand-made ones."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.connections.models import Credential, LinkedAccount, State, StateChange, WebhookEvent
from apps.connections.services.webhooks import IGNORED_BEFORE_GRANT, MAX_BODY_BYTES
from tests.connections.conftest import staff_client
from tests.connections.helpers import connect
from tests.connections.webhook_helpers import (
    IG_DEAUTHORIZE_URL,
    IG_DELETION_URL,
    TT_URL,
    instagram_account_for,
    post_signed,
    post_tiktok,
    seconds_ago,
    signed_request,
    state_of,
    tiktok_account_for,
    tiktok_body,
    tiktok_signature,
    with_other_low_bits,
)
from tests.factories import LinkedAccountFactory


@pytest.fixture
def tiktok_account(client_obj):
    return tiktok_account_for(client_obj)


@pytest.fixture
def instagram_account(client_obj):
    return instagram_account_for(client_obj)


# --- TikTok ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_signed_removal_webhook_is_stored_verified_and_revokes(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.action("tt-public", "remove_app", reason=4)
    event = WebhookEvent.objects.get()
    assert event.verified and event.processed_at is not None
    assert event.event_type == "authorization.removed"
    assert event.external_id == account.external_id
    assert event.result.startswith("revoked")
    account.refresh_from_db()
    assert account.state == State.REVOKED_ON_PLATFORM
    assert account.state_reason == "The TikTok account was banned."
    audit = AuditEvent.objects.get(action="connection.revoked_on_platform")
    assert audit.actor_label == "webhook:tiktok" and audit.data["removal_reason"] == 4


@pytest.mark.django_db
def test_a_verified_webhook_is_processed_once_however_often_it_arrives(tiktok_account):
    body = tiktok_body(tiktok_account.external_id)
    first = post_tiktok(body, tiktok_signature(body))
    # The same delivery retried later: a fresh signature, the same body.
    second = post_tiktok(body, tiktok_signature(body, at=int(time.time()) + 1))
    assert first.status_code == second.status_code == 200
    assert WebhookEvent.objects.count() == 1
    assert state_of(tiktok_account) == State.REVOKED_ON_PLATFORM
    assert StateChange.objects.filter(account=tiktok_account).count() == 1
    assert AuditEvent.objects.filter(action="connection.revoked_on_platform").count() == 1


@pytest.mark.django_db
def test_a_re_delivery_with_the_same_signature_is_acknowledged_and_processed_once(tiktok_account):
    body = tiktok_body(tiktok_account.external_id)
    signature = tiktok_signature(body)
    assert post_tiktok(body, signature).status_code == 200
    assert post_tiktok(body, signature).status_code == 200  # TikTok stops retrying
    assert WebhookEvent.objects.count() == 1
    assert StateChange.objects.filter(account=tiktok_account).count() == 1


@pytest.mark.django_db
def test_the_replay_memory_is_the_database_so_it_holds_across_processes(tiktok_account):
    """A signed delivery we refused as unreadable, re-sent to another web process (its own
    cache): the stored signature key still recognises it, and nothing more is stored."""
    body = b'{"event": "authorization.removed", "content": "not json"}'
    signature = tiktok_signature(body)
    first = post_tiktok(body, signature)
    assert first.status_code == 400 and first.content.startswith(b"malformed body")
    cache.clear()  # another process: whatever a cache remembered is not there
    replay = post_tiktok(body, signature)
    assert replay.status_code == 400 and replay.content == b"invalid signature (replayed)"
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db
def test_it_keeps_no_replay_memory_in_the_cache(tiktok_account, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the webhook receiver used the cache")

    for method in ("add", "get", "set", "get_or_set"):
        monkeypatch.setattr(cache, method, refuse)
    body = tiktok_body(tiktok_account.external_id)
    signature = tiktok_signature(body)
    assert post_tiktok(body, signature).status_code == 200
    assert post_tiktok(body, signature).status_code == 200
    assert StateChange.objects.filter(account=tiktok_account).count() == 1


@pytest.mark.django_db
def test_a_signature_is_stored_once_per_platform(tiktok_account):
    WebhookEvent.objects.create(platform="tiktok", kind="tiktok_webhook", signature_key="k" * 64)
    with pytest.raises(IntegrityError):
        WebhookEvent.objects.create(
            platform="tiktok", kind="tiktok_webhook", signature_key="k" * 64
        )


@pytest.mark.parametrize(
    "make_signature",
    [
        pytest.param(lambda body: tiktok_signature(body, secret="not-the-secret"), id="forged"),
        pytest.param(lambda body: tiktok_signature(body, at=int(time.time()) - 600), id="stale"),
        pytest.param(lambda body: tiktok_signature(body, at=int(time.time()) + 600), id="future"),
        pytest.param(lambda body: "t=abc,s=", id="malformed"),
        pytest.param(lambda body: None, id="missing"),
    ],
)
@pytest.mark.django_db
def test_a_bad_signature_is_refused_stored_unverified_and_changes_nothing(
    tiktok_account, make_signature
):
    body = tiktok_body(tiktok_account.external_id)
    response = post_tiktok(body, make_signature(body))
    assert response.status_code == 400
    assert response.content.startswith(b"invalid signature (")
    event = WebhookEvent.objects.get()
    assert not event.verified and event.verification_error and event.processed_at is None
    assert event.payload == {} and event.body_size == len(body)
    assert state_of(tiktok_account) == State.ACTIVE
    assert not AuditEvent.objects.filter(action__startswith="connection.").exists()


@pytest.mark.django_db
def test_a_tampered_body_is_refused(tiktok_account):
    body = tiktok_body(tiktok_account.external_id)
    signature = tiktok_signature(body)
    assert post_tiktok(body.replace(b"reason", b"reasoN"), signature).status_code == 400
    assert state_of(tiktok_account) == State.ACTIVE


@pytest.mark.django_db
def test_an_unknown_open_id_is_a_200_no_op(tiktok_account):
    body = tiktok_body("open-unknown")
    assert post_tiktok(body, tiktok_signature(body)).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.verified and event.result == "no-op: unknown account"
    assert state_of(tiktok_account) == State.ACTIVE


@pytest.mark.django_db
def test_a_publishing_event_does_not_touch_the_account(tiktok_account):
    body = tiktok_body(tiktok_account.external_id, event="post.publish.complete")
    assert post_tiktok(body, tiktok_signature(body)).status_code == 200
    # Publishing's handler looks for the publish; the account is none of its business.
    assert WebhookEvent.objects.get().result == "no publish_id in the event"
    assert state_of(tiktok_account) == State.ACTIVE


@pytest.mark.django_db
def test_a_publishing_event_reaches_the_registered_handler_once(tiktok_account):
    from apps.connections import hooks

    received = []

    def handler(*, account, event):
        received.append((account, event.event))
        return "handled"

    from apps.publishing.pipeline.events import tiktok_publish_event

    hooks.unregister(tiktok_publish_event)  # this test's handler alone
    hooks.register_publish_event_handler(handler)
    try:
        body = tiktok_body(tiktok_account.external_id, event="post.publish.complete")
        assert post_tiktok(body, tiktok_signature(body)).status_code == 200
        assert post_tiktok(body, tiktok_signature(body)).status_code == 200  # a re-delivery
    finally:
        hooks.unregister(handler)
        hooks.register_publish_event_handler(tiktok_publish_event)
    assert received == [(tiktok_account, "post.publish.complete")]
    assert WebhookEvent.objects.get().result == "handled"


@pytest.mark.django_db
def test_an_oversized_tiktok_body_is_refused(tiktok_account):
    body = json.dumps({"event": "authorization.removed", "pad": "x" * MAX_BODY_BYTES}).encode()
    response = post_tiktok(body, tiktok_signature(body))
    assert (response.status_code, response.content) == (400, b"body too large")
    assert not WebhookEvent.objects.filter(verified=True).exists()
    assert state_of(tiktok_account) == State.ACTIVE


@pytest.mark.django_db
def test_webhooks_only_accept_post(client):
    assert client.get(TT_URL).status_code == 405
    assert client.get(IG_DEAUTHORIZE_URL).status_code == 405


# --- Instagram -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_deauthorize_callback_revokes(sandbox, oauth, staff_member, client_obj):
    account = connect(oauth, staff_member, client_obj, "instagram")
    result = sandbox.action("ig-business", "remove_app")
    assert result["delivery"]["status_code"] == 200
    account.refresh_from_db()
    assert account.state == State.REVOKED_ON_PLATFORM
    assert WebhookEvent.objects.get().kind == "instagram_deauthorize"


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_data_deletion_callback_purges_and_answers(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "instagram")
    result = sandbox.action("ig-business", "request_data_deletion")
    reply = json.loads(result["delivery"]["response_body"])
    assert set(reply) == {"url", "confirmation_code"}
    account.refresh_from_db()
    assert account.state == State.REVOKED_ON_PLATFORM
    assert not Credential.objects.filter(account=account).exists()
    assert account.display_name == "" and account.avatar_url == ""
    assert reply["url"].endswith(f"/webhooks/ig/data-deletion/status/{reply['confirmation_code']}/")


@pytest.mark.django_db
def test_a_signed_deauthorize_revokes_the_account_by_its_app_scoped_id(instagram_account):
    response = post_signed(IG_DEAUTHORIZE_URL, signed_request(instagram_account.app_scoped_id))
    assert response.status_code == 200
    assert state_of(instagram_account) == State.REVOKED_ON_PLATFORM
    event = WebhookEvent.objects.get()
    assert event.verified and event.kind == "instagram_deauthorize"
    assert StateChange.objects.get().actor_label == "webhook:instagram"


@pytest.mark.django_db
def test_a_signed_data_deletion_purges_tokens_and_personal_data(client, instagram_account):
    response = post_signed(IG_DELETION_URL, signed_request(instagram_account.app_scoped_id))
    assert response.status_code == 200
    reply = response.json()
    assert set(reply) == {"url", "confirmation_code"} and reply["confirmation_code"]
    account = LinkedAccount.objects.get(pk=instagram_account.pk)
    assert account.state == State.REVOKED_ON_PLATFORM
    assert (account.display_name, account.avatar_url) == ("", "")
    assert not Credential.objects.filter(account=account).exists()
    assert AuditEvent.objects.filter(action="connection.data_deleted").count() == 1
    # The status URL we handed Meta works, for anyone (no login), and names the code.
    path = reply["url"].removeprefix(settings.PUBLIC_BASE_URL)
    status_page = client.get(path)
    assert status_page.status_code == 200
    assert reply["confirmation_code"] in status_page.content.decode()
    assert client.get("/webhooks/ig/data-deletion/status/not-a-code/").status_code == 404


@pytest.mark.django_db
def test_a_data_deletion_for_an_unknown_user_still_answers(instagram_account):
    response = post_signed(IG_DELETION_URL, signed_request("26999999999999999"))
    assert response.status_code == 200 and response.json()["confirmation_code"]
    assert WebhookEvent.objects.get().result == "no-op: unknown account"
    assert state_of(instagram_account) == State.ACTIVE


@pytest.mark.parametrize("url", [IG_DEAUTHORIZE_URL, IG_DELETION_URL])
@pytest.mark.parametrize(
    "value",
    [
        pytest.param("wrong-secret", id="bad-signature"),
        pytest.param("garbage", id="malformed"),
        pytest.param("", id="empty"),
    ],
)
@pytest.mark.django_db
def test_a_bad_signed_request_is_refused_and_stored_unverified(instagram_account, url, value):
    if value == "wrong-secret":
        value = signed_request(instagram_account.app_scoped_id, secret="wrong-secret")
    response = post_signed(url, value)
    assert response.status_code == 400
    event = WebhookEvent.objects.get()
    assert not event.verified and event.verification_error
    account = LinkedAccount.objects.get(pk=instagram_account.pk)
    assert account.state == State.ACTIVE and account.display_name == "Northwind IG"
    assert Credential.objects.filter(account=account).exists()


@pytest.mark.django_db
def test_an_oversized_signed_request_is_refused(instagram_account):
    response = post_signed(IG_DEAUTHORIZE_URL, "x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 400
    assert state_of(instagram_account) == State.ACTIVE


# --- Instagram replays: strict base64, dedupe on the decoded payload --------------------------


@pytest.mark.parametrize("url", [IG_DEAUTHORIZE_URL, IG_DELETION_URL])
@pytest.mark.django_db
def test_a_signature_altered_in_its_unused_bits_is_refused(instagram_account, url):
    for variant in with_other_low_bits(signed_request(instagram_account.app_scoped_id)):
        response = post_signed(url, variant)
        assert response.status_code == 400
        assert response.content == (
            b"malformed signed_request: the signature is not canonical unpadded base64url"
        )
    assert not WebhookEvent.objects.filter(verified=True).exists()
    account = LinkedAccount.objects.get(pk=instagram_account.pk)
    assert account.state == State.ACTIVE and Credential.objects.filter(account=account).exists()


@pytest.mark.django_db
def test_one_deauthorize_spelled_two_ways_is_processed_once(instagram_account):
    issued = int(time.time())
    compact = signed_request(
        instagram_account.app_scoped_id, issued_at=issued, separators=(",", ":")
    )
    spaced = signed_request(instagram_account.app_scoped_id, issued_at=issued)
    assert compact != spaced
    assert post_signed(IG_DEAUTHORIZE_URL, compact).status_code == 200
    assert post_signed(IG_DEAUTHORIZE_URL, spaced).status_code == 200
    assert WebhookEvent.objects.filter(verified=True).count() == 1
    assert StateChange.objects.filter(account=instagram_account).count() == 1


@pytest.mark.django_db
def test_one_data_deletion_spelled_two_ways_gets_one_confirmation_code(instagram_account):
    issued = int(time.time())
    first = post_signed(
        IG_DELETION_URL,
        signed_request(instagram_account.app_scoped_id, issued_at=issued, separators=(",", ":")),
    )
    again = post_signed(
        IG_DELETION_URL, signed_request(instagram_account.app_scoped_id, issued_at=issued)
    )
    assert first.json() == again.json()
    assert AuditEvent.objects.filter(action="connection.data_deleted").count() == 1


@pytest.mark.django_db
def test_a_deauthorize_and_a_data_deletion_with_the_same_payload_are_both_processed(
    instagram_account,
):
    value = signed_request(instagram_account.app_scoped_id)
    assert post_signed(IG_DEAUTHORIZE_URL, value).status_code == 200
    assert post_signed(IG_DELETION_URL, value).status_code == 200
    assert WebhookEvent.objects.filter(verified=True).count() == 2
    assert not Credential.objects.filter(account=instagram_account).exists()


# --- A callback issued before the account's current grant changes nothing --------------------


@pytest.mark.django_db
def test_a_tiktok_removal_created_before_the_current_grant_changes_nothing(client_obj):
    account = tiktok_account_for(client_obj, granted_at=timezone.now())
    body = tiktok_body(account.external_id, create_time=seconds_ago(3600))
    assert post_tiktok(body, tiktok_signature(body)).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.verified and event.result == IGNORED_BEFORE_GRANT
    assert state_of(account) == State.ACTIVE
    assert not StateChange.objects.exists() and not AuditEvent.objects.exists()
    assert Credential.objects.filter(account=account).exists()


@pytest.mark.django_db
def test_a_tiktok_removal_from_the_grants_own_second_still_revokes(client_obj):
    now = timezone.now()
    account = tiktok_account_for(client_obj, granted_at=now)
    body = tiktok_body(account.external_id, create_time=int(now.timestamp()))
    assert post_tiktok(body, tiktok_signature(body)).status_code == 200
    assert state_of(account) == State.REVOKED_ON_PLATFORM


@pytest.mark.django_db
def test_a_callback_for_an_account_with_no_known_grant_time_acts_as_before(client_obj):
    account = tiktok_account_for(client_obj, granted_at=None)
    body = tiktok_body(account.external_id, create_time=seconds_ago(3600))
    assert post_tiktok(body, tiktok_signature(body)).status_code == 200
    assert state_of(account) == State.REVOKED_ON_PLATFORM


@pytest.mark.django_db
def test_a_deauthorize_issued_before_the_current_grant_changes_nothing(client_obj):
    account = instagram_account_for(client_obj, granted_at=timezone.now())
    value = signed_request(account.app_scoped_id, issued_at=seconds_ago(600))
    assert post_signed(IG_DEAUTHORIZE_URL, value).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.verified and event.result == IGNORED_BEFORE_GRANT
    assert state_of(account) == State.ACTIVE and not StateChange.objects.exists()


@pytest.mark.django_db
def test_a_deauthorize_issued_after_the_grant_revokes(client_obj):
    account = instagram_account_for(client_obj, granted_at=timezone.now() - timedelta(days=1))
    value = signed_request(account.app_scoped_id, issued_at=seconds_ago(600))
    assert post_signed(IG_DEAUTHORIZE_URL, value).status_code == 200
    assert state_of(account) == State.REVOKED_ON_PLATFORM


@pytest.mark.django_db
def test_a_data_deletion_issued_before_the_current_grant_keeps_the_live_grant(client, client_obj):
    """Only data of the withdrawn grant goes: an older, disconnected link of the same user is
    purged; the link granted again afterwards keeps its credential and profile."""
    old_link = LinkedAccountFactory(
        client=client_obj,
        platform="instagram",
        state=State.DISCONNECTED,
        external_id="17841400000000001",
        app_scoped_id="26900000000000001",
        display_name="Northwind IG (2025)",
        avatar_url="https://example.com/old.jpg",
        granted_at=timezone.now() - timedelta(days=30),
    )
    live = instagram_account_for(client_obj, granted_at=timezone.now())
    value = signed_request(live.app_scoped_id, issued_at=seconds_ago(3 * 24 * 3600))
    response = post_signed(IG_DELETION_URL, value)
    assert response.status_code == 200
    reply = response.json()
    assert set(reply) == {"url", "confirmation_code"}
    live.refresh_from_db()
    old_link.refresh_from_db()
    assert live.state == State.ACTIVE and live.display_name == "Northwind IG"
    assert Credential.objects.filter(account=live).exists()
    assert (old_link.display_name, old_link.avatar_url) == ("", "")
    deleted = AuditEvent.objects.get(action="connection.data_deleted")
    assert deleted.target_id == str(old_link.pk)
    event = WebhookEvent.objects.get()
    assert event.result == "purged 1 account(s); kept 1 account(s) granted again after the request"
    status_page = client.get(reply["url"].removeprefix(settings.PUBLIC_BASE_URL))
    assert status_page.status_code == 200


@pytest.mark.django_db
def test_a_data_deletion_issued_before_the_grant_of_its_only_link_is_answered_and_ignored(
    client_obj,
):
    account = instagram_account_for(client_obj, granted_at=timezone.now())
    value = signed_request(account.app_scoped_id, issued_at=seconds_ago(600))
    response = post_signed(IG_DELETION_URL, value)
    assert response.status_code == 200 and response.json()["confirmation_code"]
    assert WebhookEvent.objects.get().result == IGNORED_BEFORE_GRANT
    assert state_of(account) == State.ACTIVE
    assert Credential.objects.filter(account=account).exists()


# --- End to end: the sandbox's real callbacks, replayed after a reconnect ---------------------


def reconnect_later(oauth, staff_member, client_obj, account: LinkedAccount) -> None:
    """Reconnect the account through the real OAuth flow, a few seconds after its callback."""
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        response = oauth(
            staff_client(staff_member), client_obj, account.platform, reconnect=account
        )
    assert response.status_code == 302, response.content[:300]
    account.refresh_from_db()
    assert account.state == State.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_a_captured_deauthorize_replayed_after_a_reconnect_changes_nothing(
    sandbox, oauth, staff_member, client_obj
):
    account = connect(oauth, staff_member, client_obj, "instagram")
    sandbox.action("ig-business", "remove_app")
    assert state_of(account) == State.REVOKED_ON_PLATFORM
    captured = sandbox.webhooks()[0]["body"].removeprefix("signed_request=")
    reconnect_later(oauth, staff_member, client_obj, account)

    assert post_signed(IG_DEAUTHORIZE_URL, captured).status_code == 200  # a duplicate
    for variant in with_other_low_bits(captured):
        assert post_signed(IG_DEAUTHORIZE_URL, variant).status_code == 400
    assert state_of(account) == State.ACTIVE
    assert Credential.objects.filter(account=account).exists()
    assert WebhookEvent.objects.filter(verified=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_deauthorize_first_delivered_after_a_reconnect_changes_nothing(
    sandbox, oauth, staff_member, client_obj
):
    """Meta's callback carries no freshness window: one held back (or captured) and delivered
    after the user connected again must not revoke the new grant."""
    account = connect(oauth, staff_member, client_obj, "instagram")
    sandbox.configure(webhooks_enabled=False)
    sandbox.action("ig-business", "remove_app")
    held_back = sandbox.webhooks()[0]["body"].removeprefix("signed_request=")
    reconnect_later(oauth, staff_member, client_obj, account)

    assert post_signed(IG_DEAUTHORIZE_URL, held_back).status_code == 200
    assert WebhookEvent.objects.get().result == IGNORED_BEFORE_GRANT
    assert state_of(account) == State.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_a_tiktok_removal_retried_after_a_reconnect_changes_nothing(
    sandbox, oauth, staff_member, client_obj
):
    """TikTok retries for 72 h, re-signing each time: a retry of a removal from before the
    reconnect passes the signature check and must still leave the new grant alone."""
    account = connect(oauth, staff_member, client_obj, "tiktok")
    sandbox.configure(webhooks_enabled=False)
    sandbox.action("tt-public", "remove_app", reason=1)
    body = sandbox.webhooks()[0]["body"].encode()
    reconnect_later(oauth, staff_member, client_obj, account)

    response = post_tiktok(body, tiktok_signature(body))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().result == IGNORED_BEFORE_GRANT
    assert state_of(account) == State.ACTIVE


@pytest.mark.django_db
def test_a_signed_event_with_a_nul_character_is_stored(tiktok_account):
    """PostgreSQL's jsonb refuses \\u0000; the event is still stored and processed."""
    body = (
        b'{"client_key": "k", "event": "post.publish.failed", "create_time": 1, '
        b'"user_openid": "' + tiktok_account.external_id.encode() + b'", '
        b'"content": "{\\"publish_id\\": \\"v_pub\\\\u0000x\\", \\"reason\\": \\"x\\"}", '
        b'"note": "a\\u0000b"}'
    )
    response = post_tiktok(body, tiktok_signature(body))
    assert response.status_code == 200, response.content
    stored = WebhookEvent.objects.get(verified=True)
    assert stored.payload["note"] == "a\ufffdb"
