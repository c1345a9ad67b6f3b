"""Re-encrypt every stored platform token with the newest TOKEN_ENCRYPTION_KEYS key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.audit.actions import AuditAction
from apps.audit.services import audit_record
from apps.connections.vault import rotate_all_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt all credentials with the first key of TOKEN_ENCRYPTION_KEYS. Put the new key "
        "first, keep the old ones after it, run this, then remove the old keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = rotate_all_keys()
        audit_record(
            action=AuditAction.CREDENTIALS_ROTATED,
            actor=None,
            actor_label="system",
            data={"credentials": count},
        )
        self.stdout.write(f"Re-encrypted {count} credential(s) with the newest key.")
