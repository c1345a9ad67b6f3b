"""Show the demo's emails in the terminal (scripts/run runs this with --follow).

In the demo, every process writes its emails as files under var/mail (Django's file backend);
the worker's console output goes to var/worker.log, so printing emails there would hide them.
"""

from __future__ import annotations

import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

# Django's file backend ends every message with this line.
SEPARATOR = b"\n" + b"-" * 79 + b"\n"
RULE = "─" * 72


class MailFolder:
    """The file backend's folder; `new_messages()` returns each complete message once."""

    def __init__(self, path: Path, *, skip_existing: bool) -> None:
        self.path = path
        self.read_upto: dict[Path, int] = {}
        if skip_existing:
            for file in self._files():
                self.read_upto[file] = file.stat().st_size

    def _files(self) -> list[Path]:
        """Oldest first (names hold only the second they were opened in)."""
        files = []
        for file in self.path.glob("*.log"):
            try:
                files.append((file.stat().st_mtime_ns, file))
            except OSError:  # deleted meanwhile
                continue
        return [file for _, file in sorted(files)]

    def new_messages(self) -> list[EmailMessage]:
        found = []
        for file in self._files():
            start = self.read_upto.get(file, 0)
            try:
                with file.open("rb") as stream:
                    stream.seek(start)
                    data = stream.read()
            except OSError:  # deleted meanwhile
                continue
            # A message still being written has no separator after it yet: read it next time.
            complete = data.rfind(SEPARATOR) + len(SEPARATOR) if SEPARATOR in data else 0
            if not complete:
                continue
            self.read_upto[file] = start + complete
            for raw in data[:complete].split(SEPARATOR)[:-1]:
                found.append(cast(EmailMessage, message_from_bytes(raw, policy=policy.default)))
        return found


def render(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    return "\n".join(
        [
            f"\n── Email {RULE[9:]}",
            f"To:      {message['To']}",
            f"Subject: {message['Subject']}\n",
            text.rstrip(),
            RULE,
        ]
    )


class Command(BaseCommand):
    help = "Print the demo's emails (the file email backend's messages); --follow waits for more."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--follow", action="store_true", help="print only new emails, as they arrive"
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between looks (with --follow)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.EMAIL_BACKEND != "django.core.mail.backends.filebased.EmailBackend":
            raise CommandError(
                "Emails are not saved as files here (EMAIL_URL is not filemail://), "
                "so there is nothing to show."
            )
        folder = MailFolder(
            Path(getattr(settings, "EMAIL_FILE_PATH", "")), skip_existing=options["follow"]
        )
        while True:
            for message in folder.new_messages():
                self.stdout.write(render(message))
                self.stdout.flush()
            if not options["follow"]:
                return
            time.sleep(options["interval"])
