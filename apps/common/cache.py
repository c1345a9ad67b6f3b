"""The shared cache's Redis backend (settings: CACHES)."""

from __future__ import annotations

import re

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache


class RedisCache(DjangoRedisCache):
    """Django's Redis cache whose clear() deletes only this cache's keys.

    Django's clear() is FLUSHDB, and REDIS_URL's database also holds django-q2's queue: clearing
    the cache must not drop the tasks waiting there. Keys are "<KEY_PREFIX>:<version>:<key>".
    """

    def clear(self) -> None:
        client = self._cache.get_client(None, write=True)
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self.key_prefix) + ":*"
        batch: list[bytes] = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) == 1000:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
