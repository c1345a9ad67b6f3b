"""The demo's emails reach the terminal of ./scripts/run, whichever process sent them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from apps.demo.management.commands.demo_mail import MailFolder


@pytest.fixture
def mail_dir(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    return tmp_path


def test_it_prints_each_email_readably(mail_dir):
    mail.send_mail(
        "Kumo Ramen: Instagram — Needs reconnect",
        "Instagram of Kumo Ramen is now “Needs reconnect”.\n\nSee it: http://127.0.0.1:8000/x\n",
        None,
        ["priya@northstar.example"],
    )
    out = StringIO()
    call_command("demo_mail", stdout=out)
    text = out.getvalue()
    assert "To:      priya@northstar.example" in text
    assert "Subject: Kumo Ramen: Instagram — Needs reconnect" in text
    assert "Instagram of Kumo Ramen is now “Needs reconnect”." in text  # decoded, not MIME
    assert "Content-Transfer-Encoding" not in text


def test_following_shows_only_new_emails_each_once(mail_dir):
    mail.send_mail("Before the run", "old", None, ["leo@northstar.example"])
    folder = MailFolder(mail_dir, skip_existing=True)
    assert folder.new_messages() == []

    mail.send_mail("First", "one", None, ["leo@northstar.example"])
    with mail.get_connection() as connection:  # two messages in one file
        mail.send_mail("Second", "two", None, ["mai@northstar.example"], connection=connection)
        mail.send_mail("Third", "three", None, ["mai@northstar.example"], connection=connection)
    assert [m["Subject"] for m in folder.new_messages()] == ["First", "Second", "Third"]
    assert folder.new_messages() == []


def test_a_message_still_being_written_waits_for_its_end(mail_dir):
    folder = MailFolder(mail_dir, skip_existing=True)
    partial = mail_dir / "20260101-000000-1.log"
    partial.write_bytes(b"Subject: Half\nTo: a@b.example\n\nhalf a bo")
    assert folder.new_messages() == []
    with partial.open("ab") as file:
        file.write(b"dy\n" + b"-" * 79 + b"\n")
    assert [m["Subject"] for m in folder.new_messages()] == ["Half"]


def test_it_refuses_when_emails_are_not_saved_as_files(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    with pytest.raises(CommandError, match="not saved as files"):
        call_command("demo_mail")
