"""Production configuration, checked in fresh interpreters with a controlled environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "switchboard.agency.example",
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "DATABASE_URL": "sqlite:////tmp/switchboard-settings-test.sqlite3",
}


def run_manage(*args: str, extra_env: dict[str, str] | None = None, drop: tuple[str, ...] = ()):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DEBUG", "SWITCHBOARD_", "EMULATOR_", "PYTEST"))
    }
    env.pop("REDIS_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests in this process
    env["SWITCHBOARD_ENV_FILE"] = ""  # a demo checkout's .env must not leak into production
    env.update(PRODUCTION)
    env.update(extra_env or {})
    for name in drop:
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "TOKEN_ENCRYPTION_KEYS"])
def test_it_refuses_to_start_without_a_production_secret(missing):
    result = run_manage("check", drop=(missing,))
    assert result.returncode != 0
    assert "refuses to start" in result.stderr and missing in result.stderr


def test_check_deploy_is_clean_in_production():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_sandbox_refuses_to_mount_with_debug_off():
    result = run_manage("check", extra_env={"EMULATOR_ENABLED": "1"})
    assert result.returncode != 0
    assert "EMULATOR_FORCE" in result.stderr


def test_the_sandbox_mounts_when_forced():
    result = run_manage("check", extra_env={"EMULATOR_ENABLED": "1", "EMULATOR_FORCE": "1"})
    assert result.returncode == 0, result.stderr


SANDBOX_FORCED = {"EMULATOR_ENABLED": "1", "EMULATOR_FORCE": "1"}
SANDBOX_INSTALLED = (
    "from django.apps import apps; from django.conf import settings; "
    "from django.db import connection; "
    "print('apps.emulator' in settings.INSTALLED_APPS, apps.is_installed('apps.emulator'), "
    "sorted(t for t in connection.introspection.table_names() if t.startswith('emulator_')))"
)


def test_production_neither_installs_nor_migrates_the_sandbox(tmp_path):
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    migrate = run_manage("migrate", "--no-input", extra_env=database)
    assert migrate.returncode == 0, migrate.stderr
    assert "Applying staff.0001_initial" in migrate.stdout and "emulator" not in migrate.stdout
    result = run_manage("shell", "--no-imports", "-c", SANDBOX_INSTALLED, extra_env=database)
    assert result.stdout.split() == ["False", "False", "[]"], result.stderr
    makemigrations = run_manage("makemigrations", "--check", "--dry-run", extra_env=database)
    assert makemigrations.returncode == 0, makemigrations.stdout + makemigrations.stderr


def test_an_enabled_sandbox_is_installed_and_passes_the_deploy_checks(tmp_path):
    forced = {**SANDBOX_FORCED, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = run_manage("shell", "--no-imports", "-c", SANDBOX_INSTALLED, extra_env=forced)
    assert result.stdout.split() == ["True", "True", "[]"], result.stderr  # installed, unmigrated
    check = run_manage("check", "--deploy", "--fail-level", "WARNING", extra_env=forced)
    assert check.returncode == 0, check.stderr
    makemigrations = run_manage("makemigrations", "--check", "--dry-run", extra_env=forced)
    assert makemigrations.returncode == 0, makemigrations.stdout + makemigrations.stderr


def test_the_worker_retries_after_its_timeout_and_gives_up_eventually(settings):
    q = settings.Q_CLUSTER
    assert q["retry"] > q["timeout"]
    assert q["max_attempts"] >= 1 and q["ack_failures"] is True


# What SecurityMiddleware makes of a request that says it came in over https.
FORWARDED_HTTPS = (
    "from django.conf import settings; from django.middleware.security import SecurityMiddleware; "
    "from django.test import RequestFactory; "
    "request = RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https', "
    "HTTP_HOST='switchboard.agency.example'); "
    "redirect = SecurityMiddleware(lambda r: None).process_request(request); "
    "print(request.is_secure(), redirect and redirect.status_code, "
    "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)"
)


def test_a_forwarded_https_is_not_trusted_by_default():
    """Without a proxy that overwrites it, X-Forwarded-Proto is whatever the client says: the
    request stays plain http and is redirected to https; cookies stay https-only."""
    result = run_manage("shell", "--no-imports", "-c", FORWARDED_HTTPS)
    assert result.stdout.split() == ["False", "301", "True", "True"], result.stderr


def test_behind_a_tls_proxy_its_forwarded_https_is_trusted():
    result = run_manage(
        "shell", "--no-imports", "-c", FORWARDED_HTTPS, extra_env={"BEHIND_TLS_PROXY": "1"}
    )
    assert result.stdout.split() == ["True", "None", "True", "True"], result.stderr


def test_redis_url_selects_the_redis_broker():
    code = (
        "from django.conf import settings; "
        "print(settings.Q_CLUSTER.get('redis'), settings.Q_CLUSTER.get('orm'))"
    )
    result = run_manage(
        "shell", "--no-imports", "-c", code, extra_env={"REDIS_URL": "redis://127.0.0.1:6379/3"}
    )
    assert result.stdout.split() == ["redis://127.0.0.1:6379/3", "None"], result.stderr
    result = run_manage("shell", "--no-imports", "-c", code)
    assert result.stdout.split() == ["None", "default"], result.stderr


def test_every_environment_variable_is_documented():
    import re

    sources = "".join(
        (ROOT / "config" / name).read_text() for name in ("settings.py", "gunicorn.py")
    )
    internal = {"SWITCHBOARD_TESTING", "SWITCHBOARD_ENV_FILE"}  # switches for tests
    used = set(re.findall(r'(?:env\.[a-z_]+|_rate_limit)\(\s*"([A-Z_]+)"', sources)) - internal
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert used - documented == set()


def test_tests_never_read_the_env_file(tmp_path):
    """scripts/run writes the demo's settings to .env; the test suite must not pick them up."""
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=from-the-env-file\n")
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    extra = {"SWITCHBOARD_ENV_FILE": str(env_file), "SWITCHBOARD_DEMO": "1"}
    by_hand = run_manage("shell", "--no-imports", "-c", code, extra_env=extra, drop=("SECRET_KEY",))
    assert by_hand.stdout.split() == ["from-the-env-file"], by_hand.stderr
    under_pytest = subprocess.run(
        [sys.executable, "-c", "import pytest, django; django.setup(); " + code],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "SECRET_KEY"},
            **extra,
            "DJANGO_SETTINGS_MODULE": "config.settings",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert under_pytest.returncode == 0, under_pytest.stderr
    assert "from-the-env-file" not in under_pytest.stdout


def test_forms_may_redirect_only_to_ourselves_and_the_platforms_consent_pages():
    """Connect is a POST answered by a redirect to the platform; CSP form-action governs it."""
    code = (
        "from django.conf import settings; "
        "print(*settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])"
    )
    result = run_manage("shell", "--no-imports", "-c", code)
    assert result.stdout.split() == [
        "'self'",
        "https://www.instagram.com",
        "https://www.tiktok.com",
    ], result.stderr


def test_only_the_tests_use_the_fast_password_hasher(settings):
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    result = run_manage(
        "shell", "-c", "from django.conf import settings; print(settings.PASSWORD_HASHERS[0])"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("PBKDF2PasswordHasher")
