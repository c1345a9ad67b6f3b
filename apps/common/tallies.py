"""Whole-table counts kept in the shared cache until the rows they count change.

An admin's dashboard counts every client by status and every account by state and platform. Even
over an index such an aggregate grows with the agency (DESIGN §11: pages stay flat as the agency
grows), so the count is kept: `Tally.read()` serves the last count computed since the rows last
changed, and the one writer of those rows calls `Tally.changed()` in its transaction.

A count is stored with the generation token it was computed under, and `changed()` replaces the
token both at once and again after commit. A reader that counted before a write committed and
stored its count afterwards has stored it under a token that is already gone, so nobody is served
it; a count is never older than the last committed change that said so. A count also lives at most
`ttl` seconds, which bounds how long a change made around the writers (a bulk load, the shell) can
go unseen. If the cache cannot be reached, the reader counts.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")

logger = logging.getLogger(__name__)


class Tally(Generic[T]):
    def __init__(self, name: str, *, ttl: int = 120) -> None:
        self.name = name
        self.ttl = ttl
        self._token_key = f"tally:{name}:token"
        self._value_key = f"tally:{name}:value"

    def read(self, count: Callable[[], T]) -> T:
        """The kept count, or `count()` (stored for the next reader) when none is current."""
        try:
            found = cache.get_many([self._token_key, self._value_key])
            token = found.get(self._token_key)
            kept = found.get(self._value_key)
            if token is not None and kept is not None and kept[0] == token:
                return kept[1]
            if token is None:
                token = uuid.uuid4().hex
                if not cache.add(self._token_key, token, timeout=None):
                    token = cache.get(self._token_key, token)
        except Exception:  # the cache is down: count, as if nothing were kept
            logger.warning("tally %s: the cache did not answer; counting", self.name, exc_info=True)
            return count()
        value = count()
        try:
            cache.set(self._value_key, (token, value), self.ttl)
        except Exception:
            logger.warning("tally %s: could not keep the count", self.name, exc_info=True)
        return value

    def changed(self) -> None:
        """The rows this tally counts changed in the current transaction (if any): no count taken
        before its commit is served after it."""
        self._renew()
        transaction.on_commit(self._renew, robust=True)

    def forget(self) -> None:
        """Drop the kept count at once (after a bulk load that bypassed the writers)."""
        self._renew()

    def _renew(self) -> None:
        try:
            cache.set(self._token_key, uuid.uuid4().hex, timeout=None)
        except Exception:
            # A count kept under the old token is served until `ttl` ends; say so.
            logger.warning("tally %s: could not renew its token", self.name, exc_info=True)
