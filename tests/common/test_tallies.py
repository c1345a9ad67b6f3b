"""Kept counts (apps/common/tallies.py): served until their writer says the rows changed, never
a count taken before a change once that change has committed, at most `ttl` seconds old, and
counted afresh when the cache is down."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.common.tallies import Tally

pytestmark = pytest.mark.django_db


class Counter:
    """A count function that says how often it ran and answers what `value` says."""

    def __init__(self, value: Any = 0, during: Callable[[], None] | None = None) -> None:
        self.value = value
        self.calls = 0
        self.during = during

    def __call__(self) -> Any:
        self.calls += 1
        result = self.value
        if self.during is not None:
            self.during()
        return result


def test_a_count_is_kept_until_its_writer_says_the_rows_changed() -> None:
    tally: Tally[int] = Tally("test.kept")
    count = Counter(3)

    assert [tally.read(count), tally.read(count)] == [3, 3]
    assert count.calls == 1

    count.value = 4
    tally.changed()
    assert tally.read(count) == 4
    assert count.calls == 2
    assert tally.read(count) == 4 and count.calls == 2


def test_a_count_taken_while_a_change_commits_is_not_served_after_it() -> None:
    """The race a plain delete-on-write loses: a reader counts (old rows), the writer commits and
    says so, then the reader stores its old count. The next reader must count again."""
    tally: Tally[int] = Tally("test.race")
    count = Counter(1, during=tally.changed)  # the write commits while the reader counts

    assert tally.read(count) == 1
    count.during, count.value = None, 2
    assert tally.read(count) == 2
    assert count.calls == 2


def test_a_change_inside_a_transaction_renews_again_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    tally: Tally[int] = Tally("test.commit")
    count = Counter(1)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        tally.changed()
        tally.read(count)  # a reader in between stores under the first new token
    assert len(callbacks) == 1
    count.value = 2
    assert tally.read(count) == 2  # the token the commit set is not the one it was kept under


def test_a_count_lives_at_most_its_ttl() -> None:
    """A change made around the writers (a bulk load, the shell) is seen within `ttl`."""
    tally: Tally[int] = Tally("test.ttl", ttl=60)
    count = Counter(1)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        tally.read(count)
        count.value = 2
        clock.shift(timedelta(seconds=59))
        assert tally.read(count) == 1
        clock.shift(timedelta(seconds=2))
        assert tally.read(count) == 2


def test_forget_drops_the_kept_count_at_once() -> None:
    tally: Tally[int] = Tally("test.forget")
    count = Counter(1)
    tally.read(count)
    count.value = 5
    tally.forget()
    assert tally.read(count) == 5


def test_two_tallies_keep_their_own_counts() -> None:
    first: Tally[int] = Tally("test.first")
    second: Tally[int] = Tally("test.second")
    assert (first.read(Counter(1)), second.read(Counter(2))) == (1, 2)
    first.changed()
    assert (first.read(Counter(10)), second.read(Counter(20))) == (10, 2)


def test_when_the_cache_is_down_the_reader_counts(caplog: pytest.LogCaptureFixture) -> None:
    tally: Tally[int] = Tally("test.down")
    count = Counter(7)
    with mock.patch.object(cache, "get_many", side_effect=ConnectionError("refused")):
        assert tally.read(count) == 7
        assert tally.read(count) == 7
    assert count.calls == 2
    assert "the cache did not answer" in caplog.text


def test_when_the_cache_is_down_a_change_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tally: Tally[int] = Tally("test.down-write")
    with mock.patch.object(cache, "set", side_effect=ConnectionError("refused")):
        tally.changed()  # the writer's transaction goes on
    assert "could not renew its token" in caplog.text
