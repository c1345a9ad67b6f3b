"""Platform callbacks: TikTok webhooks (signature + timestamp window, dedupe) and Instagram's
deauthorize / data-deletion signed_requests, real ones from the sandbox and hand-made ones."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
from django.conf import settings
from django.test import Client as HttpClient

from apps.audit.models import AuditEvent
from apps.connections.models import Credential, LinkedAccount, State, StateChange, WebhookEvent
from apps.connections.services.webhooks import MAX_BODY_BYTES
from tests.connections.helpers import connect, make_account, store_tokens

TT_URL = "/webhooks/tt/"
IG_DEAUTHORIZE_URL = "/webhooks/ig/deauthorize/"
IG_DELETION_URL = "/webhooks/ig/data-deletion/"


def tiktok_body(open_id: str, event: str = "authorization.removed", reason: int = 1) -> bytes:
    return json.dumps(
        {
            "client_key": settings.TIKTOK_CLIENT_KEY,
            "event": event,
            "create_time": int(time.time()),
            "user_openid": open_id,
            "content": json.dumps({"reason": reason, "nonce": uuid.uuid4().hex}),
        }
    ).encode()


def tiktok_signature(body: bytes, *, at: int | None = None, secret: str | None = None) -> str:
    stamp = int(time.time()) if at is None else at
    key = (secret or settings.TIKTOK_CLIENT_SECRET).encode()
    digest = hmac.new(key, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},s={digest}"


def post_tiktok(body: bytes, signature: str | None):
    headers = {"HTTP_TIKTOK_SIGNATURE": signature} if signature else {}
    return HttpClient().post(TT_URL, body, content_type="application/json", **headers)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed_request(user_id: str, *, secret: str | None = None) -> str:
    payload = b64url(
        json.dumps(
            {"algorithm": "HMAC-SHA256", "issued_at": int(time.time()), "user_id": user_id}
        ).encode()
    )
    key = (secret or settings.INSTAGRAM_APP_SECRET).encode()
    return b64url(hmac.new(key, payload.encode(), hashlib.sha256).digest()) + "." + payload


def post_signed(url: str, value: str):
    return HttpClient().post(url, {"signed_request": value})


@pytest.fixture
def tiktok_account(client_obj):
    account = make_account(client_obj, "tiktok", external_id=f"open-{uuid.uuid4().hex[:8]}")
    store_tokens(account)
    return account


@pytest.fixture
def instagram_account(client_obj):
    account = make_account(
        client_obj,
        "instagram",
        external_id="17841400000000001",
        app_scoped_id="26900000000000001",
        display_name="Northwind IG",
        avatar_url="https://example.com/a.jpg",
    )
    store_tokens(account, refresh=None)
    return account


def state_of(account: LinkedAccount) -> str:
    return LinkedAccount.objects.get(pk=account.pk).state


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
def test_a_replayed_signature_of_a_delivery_we_hold_no_record_of_is_refused(tiktok_account):
    """Seen before, yet not stored as verified: nothing vouches for it, so it is refused."""
    body = tiktok_body("someone-else")
    signature = tiktok_signature(body)
    assert post_tiktok(body, signature).status_code == 200
    WebhookEvent.objects.all().delete()  # as if the first delivery had never been stored
    assert post_tiktok(body, signature).status_code == 400
    assert WebhookEvent.objects.filter(verified=False).count() == 1


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
    event = WebhookEvent.objects.get()
    assert not event.verified and event.verification_error and event.processed_at is None
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
    assert WebhookEvent.objects.get().result == "stored for publishing"
    assert state_of(tiktok_account) == State.ACTIVE


@pytest.mark.django_db
def test_an_oversized_tiktok_body_is_refused(tiktok_account):
    body = json.dumps({"event": "authorization.removed", "pad": "x" * MAX_BODY_BYTES}).encode()
    assert post_tiktok(body, tiktok_signature(body)).status_code == 400
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
