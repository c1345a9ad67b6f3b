"""Instagram's error table: every row maps where we say it does, however the error arrives."""

from __future__ import annotations

import json

import pytest

from apps.common.http import Response
from apps.platforms.errors import AuthReason, Category, ErrorRow
from apps.platforms.instagram.errors import (
    ERROR_TABLE,
    container_error,
    error_for,
    error_from_response,
    row_for,
)

A, RL, Q, T, C, P = (
    Category.AUTH,
    Category.RATE_LIMIT,
    Category.QUOTA,
    Category.TRANSIENT,
    Category.CONTENT,
    Category.PERMANENT,
)

# Written out independently of the table: a wrong row fails here, not just a missing one.
EXPECTED: dict[str, tuple[Category, AuthReason | None]] = {
    "190": (A, AuthReason.EXPIRED),
    "102": (A, AuthReason.EXPIRED),
    "190/458": (A, AuthReason.REVOKED),
    "190/459": (A, AuthReason.CHECKPOINT),
    "190/460": (A, AuthReason.PASSWORD_CHANGED),
    "190/461": (A, AuthReason.REVOKED),
    "190/462": (A, AuthReason.REVOKED),
    "190/463": (A, AuthReason.EXPIRED),
    "190/464": (A, AuthReason.CHECKPOINT),
    "190/465": (A, AuthReason.REVOKED),
    "190/466": (A, AuthReason.REVOKED),
    "190/467": (A, AuthReason.PASSWORD_CHANGED),
    "190/468": (A, AuthReason.REVOKED),
    "190/492": (A, AuthReason.PASSWORD_CHANGED),
    "10": (A, AuthReason.SCOPE_MISSING),
    "200-299": (A, AuthReason.SCOPE_MISSING),
    "oauth_400": (A, AuthReason.EXPIRED),
    "4": (RL, None),
    "17": (RL, None),
    "32": (RL, None),
    "613": (RL, None),
    "341": (RL, None),
    "368": (P, None),
    "1": (T, None),
    "2": (T, None),
    "-2/2207003": (T, None),
    "-2/2207020": (T, None),
    "-1/2207001": (T, None),
    "-1/2207032": (T, None),
    "-1/2207053": (T, None),
    "1/2207057": (C, None),
    "4/2207051": (C, None),
    "9/2207042": (Q, None),
    "24/2207006": (T, None),
    "24/2207008": (T, None),
    "25/2207050": (P, None),
    "100/2207023": (P, None),
    "352/2207026": (C, None),
    "9004/2207052": (C, None),
    "9007/2207027": (T, None),
    "36004/2207010": (C, None),
    "100/2207040": (C, None),
    "token_too_young": (T, None),
    "container_ERROR": (C, None),
    "container_EXPIRED": (T, None),
}
RESTARTS = {"-2/2207003", "-2/2207020", "-1/2207001", "-1/2207032", "-1/2207053", "24/2207006",
            "container_EXPIRED"}  # fmt: skip


def _response(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    return Response(status=status, headers=headers or {}, content=json.dumps(body).encode(), url="")


def _graph_error(code: int, subcode: int | None = None, **extra: object) -> dict[str, object]:
    error: dict[str, object] = {"message": "m", "type": "OAuthException", "code": code, **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def test_it_has_exactly_the_expected_codes() -> None:
    codes = [row.code for row in ERROR_TABLE]
    assert len(codes) == len(set(codes)), "duplicate rows"
    assert set(codes) == set(EXPECTED)


@pytest.mark.parametrize("row", ERROR_TABLE, ids=lambda row: row.code)
def test_it_maps_each_row_as_expected(row: ErrorRow) -> None:
    category, reason = EXPECTED[row.code]

    error = error_for(row.code)

    assert (error.category, error.auth_reason) == (category, reason)
    assert error.restart is (row.code in RESTARTS)
    assert error.platform == "instagram"
    assert (error.auth_reason is not None) == (error.category is Category.AUTH)
    assert error.message[0].isupper() and error.message.endswith(".")
    assert row.source


def _wire(key: str) -> Response:
    """The Graph error body a row's code would arrive in."""
    if key == "oauth_400":
        return _response(400, {"error_type": "OAuthException", "code": 400, "error_message": "x"})
    if key == "200-299":
        return _response(403, _graph_error(250))
    code, _, subcode = key.partition("/")
    return _response(400, _graph_error(int(code), int(subcode) if subcode else None))


WIRE_CODES = sorted(k for k in EXPECTED if not k.startswith(("container_", "token_")))


@pytest.mark.parametrize("key", WIRE_CODES)
def test_it_maps_each_code_from_the_wire(key: str) -> None:
    error = error_from_response(_wire(key))

    assert error is not None
    assert (error.category, error.auth_reason) == EXPECTED[key]
    assert error.code == key


@pytest.mark.parametrize("subcode", [None, 999, 12345])
def test_it_treats_any_190_as_reauth(subcode: int | None) -> None:
    error = error_from_response(_response(400, _graph_error(190, subcode)))

    assert error is not None
    assert (error.category, error.auth_reason) == (Category.AUTH, AuthReason.EXPIRED)


@pytest.mark.parametrize("code", [200, 230, 299])
def test_it_treats_the_200_range_as_missing_permissions(code: int) -> None:
    assert row_for(code).auth_reason is AuthReason.SCOPE_MISSING


def test_it_knows_a_publishing_subcode_under_another_code() -> None:
    assert row_for(-1, 2207020).code == "-2/2207020"


def test_it_prefers_the_exact_subcode_over_the_code() -> None:
    # Code 4 alone is throttling; 4/2207051 is suspected spam.
    assert row_for(4).category is Category.RATE_LIMIT
    assert row_for(4, 2207051).category is Category.CONTENT


@pytest.mark.parametrize(
    ("status_code", "status", "expected_code"),
    [
        ("ERROR", "Error: Media upload has failed with error code 2207026", "352/2207026"),
        ("ERROR", "2207052", "9004/2207052"),
        ("ERROR", "", "container_ERROR"),
        ("EXPIRED", "", "container_EXPIRED"),
    ],
)
def test_it_maps_container_statuses(status_code: str, status: str, expected_code: str) -> None:
    assert container_error(status_code, status).code == expected_code


def test_it_trusts_is_transient_only_for_unknown_codes() -> None:
    unknown = error_from_response(_response(400, _graph_error(777, is_transient=True)))
    known = error_from_response(_response(400, _graph_error(368, is_transient=True)))

    assert unknown is not None and unknown.category is Category.TRANSIENT
    assert known is not None and known.category is Category.PERMANENT


@pytest.mark.parametrize(
    ("status", "category"),
    [(500, Category.TRANSIENT), (503, Category.TRANSIENT), (429, RL), (404, P)],
)
def test_it_classifies_a_body_without_an_error_by_status(status: int, category: Category) -> None:
    error = error_from_response(Response(status=status, headers={}, content=b"<html>", url=""))

    assert error is not None and error.category is category


def test_it_reads_retry_after_when_sent() -> None:
    error = error_from_response(_response(400, _graph_error(4), {"Retry-After": "120"}))

    assert error is not None and error.retry_after == 120


def test_it_takes_a_plain_body_as_success() -> None:
    assert error_from_response(_response(200, {"id": "1"})) is None


def test_it_redacts_tokens_from_the_platform_message() -> None:
    error = error_from_response(
        _response(400, _graph_error(190, message="Invalid token IGAAabcdefghijk"))
    )

    assert error is not None
    assert "IGAAabcdefghijk" not in error.detail
    assert error.log_id == ""
