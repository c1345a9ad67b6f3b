"""The cache every process shares (settings: Cache): what one process counts — sign-in limits,
used TOTP codes — another sees. Redis with REDIS_URL, else the table `migrate` creates."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator

import pytest
import redis
from allauth.core import ratelimit
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory, override_settings

from tests.common.test_settings import run_manage

# Prints the cache this process is configured with, then whether each of `times` sign-in
# submissions from `address` is within LOGIN_RATE_LIMIT (allauth, as the sign-in page counts).
SIGN_IN_ATTEMPTS = (
    "import json; from allauth.core import ratelimit; from django.conf import settings; "
    "from django.test import RequestFactory; "
    "request = RequestFactory().post('/accounts/login/', REMOTE_ADDR='{address}'); "
    "print(json.dumps(settings.CACHES['default'])); "
    "print(*(bool(ratelimit.consume(request, action='login')) for _ in range({times})))"
)
LIMIT = {"LOGIN_RATE_LIMIT": "3/m/ip"}


def attempts_in_another_process(address: str, times: int, env: dict[str, str]):
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        SIGN_IN_ATTEMPTS.format(address=address, times=times),
        extra_env={**LIMIT, **env},
    )
    assert result.returncode == 0, result.stderr
    config, outcomes = result.stdout.strip().splitlines()[-2:]
    return json.loads(config), outcomes.split()


def a_test_address() -> str:
    # Another suite may share the Redis database: an address of our own keeps the counts apart.
    return f"198.51.100.{secrets.randbelow(250) + 1}"


@pytest.mark.django_db
def test_the_tests_use_the_database_cache_that_migrate_created():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert settings.CACHES["default"]["LOCATION"] == "switchboard_cache"
    assert "switchboard_cache" in connection.introspection.table_names()


def test_without_redis_processes_share_limits_through_the_database(tmp_path):
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    migrate = run_manage("migrate", "--no-input", extra_env=database)
    assert migrate.returncode == 0, migrate.stderr
    address = a_test_address()

    config, first = attempts_in_another_process(address, 2, database)
    _, second = attempts_in_another_process(address, 2, database)

    assert config["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert (first, second) == (["True", "True"], ["True", "False"])


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of these tests' own (12), on REDIS_URL's server or the local one."""
    server = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    url = f"{server}/12"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis must be reachable in CI: {error}")
        pytest.skip(f"no Redis at {server}: {error}")
    yield url
    client.close()


@pytest.fixture
def address(redis_url: str) -> Iterator[str]:
    address = a_test_address()
    yield address
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"*{address}*"):
        client.delete(key)
    client.close()


def test_with_redis_processes_share_limits_through_it(redis_url, address):
    config, first = attempts_in_another_process(address, 2, {"REDIS_URL": redis_url})
    assert config["BACKEND"] == "apps.common.cache.RedisCache"
    assert config["LOCATION"] == redis_url
    assert first == ["True", "True"]

    # This process, with a connection of its own to the configured cache, sees those two.
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=address)
    limits = {**settings.ACCOUNT_RATE_LIMITS, "login": LIMIT["LOGIN_RATE_LIMIT"]}
    with override_settings(CACHES={"default": config}, ACCOUNT_RATE_LIMITS=limits):
        assert bool(ratelimit.consume(request, action="login")) is True
        assert bool(ratelimit.consume(request, action="login")) is False

    _, third = attempts_in_another_process(address, 1, {"REDIS_URL": redis_url})
    assert third == ["False"]


def test_clearing_the_redis_cache_leaves_the_queue_alone(redis_url):
    """REDIS_URL's database also holds django-q2's queue; Django's own clear() is FLUSHDB."""
    queued = f"django_q:test-{secrets.token_hex(4)}:q"
    client = redis.Redis.from_url(redis_url)
    client.rpush(queued, "a task")
    config = {
        "BACKEND": "apps.common.cache.RedisCache",
        "LOCATION": redis_url,
        "KEY_PREFIX": f"switchboard-test-{secrets.token_hex(4)}",  # another suite's keys stay
    }
    try:
        with override_settings(CACHES={"default": config}):
            cache.set("remembered", "yes")
            assert cache.get("remembered") == "yes"
            cache.clear()
            assert cache.get("remembered") is None
        assert client.lrange(queued, 0, -1) == [b"a task"]
    finally:
        client.delete(queued)
        client.close()
