"""The demo's settings: exported by scripts/run and written once to .env, so that manage.py typed
by hand in a demo checkout runs against the same demo (and never Django's debug pages)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from apps.demo.management.commands import demo_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def demo_mode(settings):
    settings.DEMO = True


def read_env_file(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_it_writes_the_demo_settings_with_fresh_secrets(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_env, "_stored_tokens_exist", lambda: False)
    err = StringIO()
    call_command("demo_env", "--write", str(tmp_path / ".env"), stderr=err)
    call_command("demo_env", "--write", str(tmp_path / "other.env"))

    values = read_env_file(tmp_path / ".env")
    assert values.items() >= demo_env.demo_settings().items()
    assert values["SWITCHBOARD_DEMO"] == "1"
    assert "DEBUG" not in values  # off, as in production: our own error pages
    assert len(values["SECRET_KEY"]) >= 50
    Fernet(values["TOKEN_ENCRYPTION_KEYS"])  # one real Fernet key
    other = read_env_file(tmp_path / "other.env")
    assert other["SECRET_KEY"] != values["SECRET_KEY"]
    assert other["TOKEN_ENCRYPTION_KEYS"] != values["TOKEN_ENCRYPTION_KEYS"]
    assert (tmp_path / ".env").stat().st_mode & 0o777 == 0o600
    assert "Wrote the demo's settings" in err.getvalue()


def test_it_never_overwrites_an_existing_env_file(tmp_path):
    path = tmp_path / ".env"
    path.write_text("DATABASE_URL=postgres://mine\n")
    err = StringIO()
    call_command("demo_env", "--write", str(path), stderr=err)
    assert path.read_text() == "DATABASE_URL=postgres://mine\n"
    assert err.getvalue() == ""


def test_it_keeps_the_previous_key_when_the_demo_already_stored_tokens(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_env, "_stored_tokens_exist", lambda: True)
    call_command("demo_env", "--write", str(tmp_path / ".env"))
    keys = read_env_file(tmp_path / ".env")["TOKEN_ENCRYPTION_KEYS"].split(",")
    from django.conf import settings

    assert len(keys) == 2 and keys[1:] == settings.TOKEN_ENCRYPTION_KEYS


@pytest.mark.django_db
def test_an_empty_database_has_no_stored_tokens():
    assert demo_env._stored_tokens_exist() is False


def test_it_prints_the_exports_that_scripts_run_evaluates():
    out = StringIO()
    call_command("demo_env", "--exports", stdout=out)
    words = shlex.split(out.getvalue())
    assert words[0] == "export"
    assert dict(word.split("=", 1) for word in words[1:]) == demo_env.demo_settings()
    assert 'eval "$DEMO_EXPORTS"' in (ROOT / "scripts" / "run").read_text()


def test_it_runs_only_in_demo_mode(settings, tmp_path):
    settings.DEMO = False
    with pytest.raises(CommandError, match="demo mode"):
        call_command("demo_env", "--write", str(tmp_path / ".env"))
    assert not (tmp_path / ".env").exists()


# --- The demo checkout, in fresh interpreters ------------------------------------------------


@pytest.fixture(scope="module")
def demo_checkout(tmp_path_factory):
    """A shell in a demo checkout: nothing exported, only the .env that scripts/run writes."""
    tmp = tmp_path_factory.mktemp("demo")
    (tmp / ".env").write_text(demo_env.demo_env_file(public_base_url="http://127.0.0.1:8000"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DEBUG", "SWITCHBOARD_", "EMULATOR_", "PYTEST", "DATABASE_URL"))
        and k not in ("REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY")
    }
    env.update(
        SWITCHBOARD_ENV_FILE=str(tmp / ".env"),  # stands in for the checkout's .env
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
    )

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )

    result = manage("migrate", "--no-input", "-v", "0")
    assert result.returncode == 0, result.stderr
    return manage


def test_the_readme_commands_work_in_the_demo_checkout(demo_checkout):
    result = demo_checkout("verify_audit_chain")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK")


GET = """
from django.test import Client
response = Client().get({path!r})
print(response.status_code)
print(response.content.decode())
"""


def test_an_unknown_url_gets_our_404_page_in_the_demo(demo_checkout):
    result = demo_checkout("shell", "--no-imports", "-c", GET.format(path="/no-such-page/"))
    assert result.returncode == 0, result.stderr
    status, page = result.stdout.split("\n", 1)
    assert status == "404"
    assert "Page not found" in page and "Back to the dashboard" in page
    assert "URLconf" not in page and "_emulator/" not in page  # no URL-pattern listing


def test_the_sandbox_is_still_mounted_in_the_demo(demo_checkout):
    result = demo_checkout("shell", "--no-imports", "-c", GET.format(path="/_emulator/control/"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n", 1)[0] == "200"
