"""DESIGN §10 canary: token strings never show up in pages, logs, audit rows, task payloads or
error messages; and key rotation re-encrypts every credential with the newest key."""

from __future__ import annotations

import json
import logging
import uuid
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.test import Client as HttpClient
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.common import crypto
from apps.connections import vault
from apps.connections.models import Credential, LinkedAccount, State
from apps.connections.services.disconnect import account_disconnect, account_revoke_at_platform
from apps.connections.services.health import account_check
from apps.connections.services.refresh import account_refresh
from apps.platforms.errors import PlatformError
from apps.platforms.instagram import client as instagram
from apps.platforms.tiktok import client as tiktok
from tests.connections.helpers import captured_tasks, connect
from tests.factories import DEFAULT_PASSWORD, CredentialFactory, LinkedAccountFactory

# Log records written by the sandbox itself (it plays the platform, whose own logs naturally
# see the tokens it issued) are not ours.
PLATFORM_SIDE_LOGGERS = ("django.server", "apps.emulator")


def secrets_of(account: LinkedAccount) -> set[str]:
    credential = Credential.objects.get(account=account)
    return {vault.access_token_of(credential), vault.refresh_token_of(credential)} - {""}


def assert_absent(secrets: set[str], text: str, where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"a token leaked into {where}"
        assert secret[-16:] not in text, f"part of a token leaked into {where}"


def our_log_text(caplog) -> str:
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith(PLATFORM_SIDE_LOGGERS)
    )


@pytest.mark.django_db(transaction=True)
def test_tokens_never_reach_pages_logs_audit_or_task_payloads(
    sandbox, oauth, staff_member, admin_user, client_obj, caplog
):
    caplog.set_level(logging.DEBUG)
    seen: set[str] = set()
    with captured_tasks() as calls:
        accounts = [
            connect(oauth, staff_member, client_obj, platform)
            for platform in ("tiktok", "instagram")
        ]
        for account in accounts:
            seen |= secrets_of(account)
        tt, ig = accounts
        sandbox.advance(days=2)
        Credential.objects.filter(account=ig).update(
            obtained_at=Credential.objects.get(account=ig).obtained_at.replace(year=2000)
        )
        for account in accounts:
            assert str(account_refresh(account_id=account.pk, force=True)) == "refreshed"
            seen |= secrets_of(account)
            assert str(account_check(account_id=account.pk)) == "ok"
        assert len(seen) >= 5  # both accounts' tokens before and after the refresh

        # Every page an admin can open about these accounts, this client, and the dashboard.
        http = HttpClient()
        http.force_login(admin_user, backend="django.contrib.auth.backends.ModelBackend")
        pages = [
            "/",
            "/clients/",
            f"/clients/{client_obj.slug}/",
            "/connections/health/",
            "/audit/",
            f"/audit/?client={client_obj.pk}",
            f"/audit/clients/{client_obj.slug}/",
            f"/audit/clients/{client_obj.slug}/report/{timezone.localdate():%Y-%-m}/",
            *[f"/audit/accounts/{a.pk}/" for a in accounts],
            *[f"/audit/{pk}/" for pk in AuditEvent.objects.values_list("pk", flat=True)],
            *[f"/connections/{a.pk}/" for a in accounts],
            "/_emulator/control/",  # the sandbox's own page shows tokens masked
        ]
        for path in pages:
            response = http.get(path)
            assert response.status_code == 200, path
            assert_absent(seen, response.content.decode(), path)
        # The CSV export streams every audit row (a sensitive action: password first).
        http.post("/accounts/reauthenticate/", {"password": DEFAULT_PASSWORD})
        export = http.get("/audit/export.csv")
        assert export.status_code == 200
        assert_absent(seen, b"".join(export.streaming_content).decode(), "the audit export")

        for account in accounts:
            account_disconnect(account=LinkedAccount.objects.get(pk=account.pk), actor=admin_user)
            assert str(account_revoke_at_platform(account_id=account.pk)) == "disconnected"
        for path in [f"/connections/{a.pk}/" for a in accounts] + [f"/clients/{client_obj.slug}/"]:
            assert_absent(seen, http.get(path).content.decode(), path)

    assert tt.platform == "tiktok" and ig.platform == "instagram"
    assert_absent(seen, our_log_text(caplog), "the logs")
    audit = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert_absent(seen, audit, "the audit log")
    assert calls, "the flow enqueues tasks"
    assert_absent(seen, repr(calls), "task payloads")
    assert all(isinstance(a, int) for _, args in calls for a in args)


@pytest.mark.django_db(transaction=True)
def test_tokens_never_reach_error_messages(sandbox, client_obj, caplog):
    caplog.set_level(logging.DEBUG)
    canary = f"act.CANARY-{uuid.uuid4()}"
    refresh_canary = f"rft.CANARY-{uuid.uuid4()}"
    account = LinkedAccountFactory(client=client_obj, platform="tiktok", external_id="canary")
    CredentialFactory(account=account, access=canary, refresh=refresh_canary)
    secrets = {canary, refresh_canary}
    # The platform refuses the planted tokens: the check, the refresh and a direct call fail.
    assert str(account_check(account_id=account.pk)).startswith("error:")
    account.refresh_from_db()
    assert account.state == State.NEEDS_RECONNECT
    assert_absent(secrets, account.last_error_message + account.state_reason, "the account")
    errors: list[PlatformError] = []
    for call in (
        lambda: tiktok.get_user_info(access_token=canary),
        lambda: tiktok.refresh_tokens(refresh_token=refresh_canary),
        lambda: instagram.get_me(access_token=canary),
    ):
        with pytest.raises(PlatformError) as raised:
            call()
        errors.append(raised.value)
    for error in errors:
        text = " ".join([str(error), repr(error), error.message, error.detail, str(error.args)])
        assert_absent(secrets, text, f"PlatformError {error.code}")
    assert_absent(secrets, our_log_text(caplog), "the logs")
    assert_absent(secrets, repr(Credential.objects.get(account=account)), "repr(Credential)")
    audit = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert_absent(secrets, audit, "the audit log")


@pytest.mark.django_db
def test_rotate_token_keys_re_encrypts_every_credential_with_the_newest_key(client_obj, settings):
    old_keys = list(settings.TOKEN_ENCRYPTION_KEYS)
    stored = {}
    for n in range(3):
        account = LinkedAccountFactory(client=client_obj, external_id=f"rot-{n}")
        CredentialFactory(
            account=account, access=f"act.rot-{n}", refresh=None if n == 2 else f"rft.rot-{n}"
        )
        stored[account.pk] = (f"act.rot-{n}", "" if n == 2 else f"rft.rot-{n}")
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, *old_keys]
    out = StringIO()
    call_command("rotate_token_keys", stdout=out)
    assert "3" in out.getvalue()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key]
    for credential in Credential.objects.all():
        assert (vault.access_token_of(credential), vault.refresh_token_of(credential)) == (
            stored[credential.account_id]
        )
    settings.TOKEN_ENCRYPTION_KEYS = old_keys
    with pytest.raises(crypto.DecryptionError):
        vault.access_token_of(Credential.objects.first())
    assert AuditEvent.objects.filter(action="connection.keys_rotated").count() == 1
