from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Rate-limit counters and used TOTP codes live in the (locmem) cache; keep tests independent.
    cache.clear()
    yield
    cache.clear()
