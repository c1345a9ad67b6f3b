"""The shared PlatformError, transport failures and Retry-After parsing."""

from __future__ import annotations

import pytest

from apps.common.http import HttpError
from apps.platforms.errors import (
    Category,
    Platform,
    PlatformError,
    parse_retry_after,
    transport_error,
)
from apps.platforms.types import TokenSet, split_scopes


@pytest.mark.parametrize(("timeout", "code"), [(True, "timeout"), (False, "network_error")])
def test_it_maps_a_transport_failure_to_transient_with_unknown_outcome(
    timeout: bool, code: str
) -> None:
    error = transport_error(
        HttpError("GET https://x.test?access_token=[redacted] failed", timeout=timeout),
        platform=Platform.INSTAGRAM,
    )

    assert (error.category, error.code, error.timeout) == (Category.TRANSIENT, code, timeout)
    assert error.outcome_unknown is True
    assert error.retryable is True
    assert error.message.startswith(("Instagram did not answer", "Switchboard could not reach"))


def test_it_redacts_tokens_from_the_detail() -> None:
    error = PlatformError(
        platform="tiktok",
        category=Category.PERMANENT,
        code="x",
        message="Something failed.",
        detail="Bearer act.abcdefgh and rft.zyxwvuts",
    )

    assert "abcdefgh" not in error.detail and "zyxwvuts" not in error.detail
    assert str(error) == "tiktok permanent (x): Something failed."


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("30", 30), (" 5 ", 5), ("-3", 0), ("Wed, 21 Oct 2015 07:28:00 GMT", None)],
)
def test_it_parses_retry_after(value: str | None, expected: int | None) -> None:
    assert parse_retry_after(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("a,b", frozenset({"a", "b"})),
        ("a b", frozenset({"a", "b"})),
        (["a", "b"], frozenset({"a", "b"})),
        ("", frozenset()),
    ],
)
def test_it_splits_scopes(value: object, expected: frozenset[str] | None) -> None:
    assert split_scopes(value) == expected


def test_it_hides_tokens_in_a_token_sets_repr() -> None:
    tokens = TokenSet(access_token="act.secret", expires_in=60, refresh_token="rft.secret")

    assert "secret" not in repr(tokens)
