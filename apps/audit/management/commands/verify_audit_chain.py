from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exits non-zero at the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_chain_verify()
        if not result.ok:
            raise CommandError(
                f"BROKEN at event {result.broken_id}: {result.reason} "
                f"({result.checked} events verified before it)."
            )
        self.stdout.write(f"OK ({result.checked} events verified)")
