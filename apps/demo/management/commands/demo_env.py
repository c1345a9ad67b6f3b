"""The demo's settings, for scripts/run: printed as shell exports for the processes it starts, and
written once to `.env` so that `manage.py …` typed by hand in the checkout runs the same demo.

DEBUG stays off, as in production: the product's own 404 and 500 pages, never Django's debug page
with every URL pattern (`DEBUG=1 ./scripts/run` brings that back). The sandbox is mounted on
purpose, hence EMULATOR_FORCE.
"""

from __future__ import annotations

import secrets
import shlex
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError


def demo_settings() -> dict[str, str]:
    """What every demo process gets, besides the secrets in `.env`."""
    return {
        "SWITCHBOARD_DEMO": "1",
        "EMULATOR_ENABLED": "1",
        "EMULATOR_FORCE": "1",
        # Emails are files under var/mail; scripts/run prints each new one (manage.py demo_mail).
        "EMAIL_URL": f"filemail:///{settings.BASE_DIR / 'var' / 'mail'}",
    }


def demo_env_file(*, public_base_url: str, decrypt_only_keys: list[str] | None = None) -> str:
    """The text of a fresh demo `.env`: the demo's settings and newly generated secrets, plus
    any keys still needed to decrypt tokens stored before."""
    keys = [Fernet.generate_key().decode()]
    lines = [
        "# Switchboard demo settings, written by scripts/run.",
        "# manage.py reads this file for whatever the environment leaves unset (tests never do).",
        "# scripts/run never overwrites it; delete it to get new secrets (that ends sessions).",
        *(f"{name}={value}" for name, value in demo_settings().items()),
        "# scripts/run sets this from PORT on each run; this value is for commands typed by hand.",
        f"PUBLIC_BASE_URL={public_base_url}",
        f"SECRET_KEY={secrets.token_urlsafe(50)}",
    ]
    if decrypt_only_keys:
        keys += decrypt_only_keys
        lines.append("# The keys after the first only decrypt older tokens: see rotate_token_keys.")
    lines.append(f"TOKEN_ENCRYPTION_KEYS={','.join(keys)}")
    return "\n".join(lines) + "\n"


def _stored_tokens_exist() -> bool:
    from apps.connections.models import Credential

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3") and not Path(database["NAME"]).exists():
        return False  # connecting would create the file
    try:
        return Credential.objects.exists()
    except DatabaseError:  # not migrated yet
        return False


class Command(BaseCommand):
    help = "Print the demo's settings as shell exports; --write PATH also creates the demo .env."
    # Runs before `.env` exists and before migrate; the URLconf refuses to load until then.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", metavar="PATH", help="create this .env if it is missing")
        parser.add_argument("--exports", action="store_true", help="print `export` lines")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError("demo_env only runs in demo mode (SWITCHBOARD_DEMO=1).")
        if options["write"]:
            self._write(Path(options["write"]))
        if options["exports"]:
            exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in demo_settings().items())
            self.stdout.write(f"export {exports}")

    def _write(self, path: Path) -> None:
        if path.exists():
            return
        # A demo that ran before this file existed stored its tokens with the keys configured
        # until now (the built-in development key): keep them for decrypting until
        # `manage.py rotate_token_keys` has re-encrypted every token.
        text = demo_env_file(
            public_base_url=settings.PUBLIC_BASE_URL,
            decrypt_only_keys=settings.TOKEN_ENCRYPTION_KEYS if _stored_tokens_exist() else None,
        )
        try:
            with path.open("x", encoding="utf-8") as file:  # never overwrite
                path.chmod(0o600)
                file.write(text)
        except FileExistsError:
            return
        # stderr, plain: scripts/run evaluates stdout.
        self.stderr.write(
            f"→ Wrote the demo's settings to {path} (manage.py typed by hand uses them)",
            style_func=str,
        )
