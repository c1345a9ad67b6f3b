"""TikTok's error table: every row maps where we say it does, from every place codes arrive."""

from __future__ import annotations

import pytest

from apps.common.http import Response
from apps.platforms.errors import AuthReason, Category, ErrorRow
from apps.platforms.tiktok.errors import (
    ERROR_TABLE,
    error_for_code,
    error_from_response,
    upload_error,
)
from tests.platforms.fakes import tiktok_err

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
    # §1.3 OAuth
    "access_denied": (A, AuthReason.REVOKED),
    "invalid_client": (P, None),
    "invalid_grant": (A, AuthReason.EXPIRED),
    "invalid_request": (P, None),
    "invalid_scope": (P, None),
    "unauthorized_client": (P, None),
    "unsupported_grant_type": (P, None),
    "unsupported_response_type": (P, None),
    "server_error": (T, None),
    "temporarily_unavailable": (T, None),
    # §1.8 generic
    "access_token_invalid": (A, AuthReason.EXPIRED),
    "scope_not_authorized": (A, AuthReason.SCOPE_MISSING),
    "scope_permission_missed": (A, AuthReason.SCOPE_MISSING),
    "invalid_params": (P, None),
    "invalid_param": (P, None),
    "invalid_file_upload": (C, None),
    "rate_limit_exceeded": (RL, None),
    "internal_error": (T, None),
    # §1.6 content posting
    "spam_risk_too_many_posts": (Q, None),
    "spam_risk_user_banned_from_posting": (P, None),
    "reached_active_user_cap": (Q, None),
    "spam_risk_too_many_pending_share": (Q, None),
    "unaudited_client_can_only_post_to_private_accounts": (P, None),
    "url_ownership_unverified": (P, None),
    "privacy_level_option_mismatch": (P, None),
    "invalid_publish_id": (T, None),
    "token_not_authorized_for_specified_publish_id": (P, None),
    "publish_not_cancellable": (P, None),
    # §1.6(f) fail_reason
    "file_format_check_failed": (C, None),
    "duration_check_failed": (C, None),
    "frame_rate_check_failed": (C, None),
    "picture_size_check_failed": (C, None),
    "internal": (T, None),
    "video_pull_failed": (T, None),
    "photo_pull_failed": (T, None),
    "publish_cancelled": (P, None),
    "auth_removed": (A, AuthReason.REVOKED),
    "spam_risk_text": (C, None),
    "spam_risk": (C, None),
    # §1.6(d) upload PUT
    "upload_400": (P, None),
    "upload_403": (T, None),
    "upload_404": (T, None),
    "upload_416": (T, None),
    "upload_5xx": (T, None),
}

OAUTH_CODES = {
    "access_denied",
    "invalid_client",
    "invalid_grant",
    "invalid_request",
    "invalid_scope",
    "unauthorized_client",
    "unsupported_grant_type",
    "unsupported_response_type",
    "server_error",
    "temporarily_unavailable",
}


def _response(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    import json

    return Response(status=status, headers=headers or {}, content=json.dumps(body).encode(), url="")


def test_it_has_exactly_the_expected_codes() -> None:
    codes = [row.code for row in ERROR_TABLE]
    assert len(codes) == len(set(codes)), "duplicate rows"
    assert set(codes) == set(EXPECTED)


@pytest.mark.parametrize("row", ERROR_TABLE, ids=lambda row: row.code)
def test_it_maps_each_row_as_expected(row: ErrorRow) -> None:
    category, reason = EXPECTED[row.code]

    error = error_for_code(row.code)

    assert (error.category, error.auth_reason) == (category, reason)
    assert error.code == row.code
    assert error.platform == "tiktok"
    assert (error.auth_reason is not None) == (error.category is Category.AUTH)
    # A sentence staff can read.
    assert error.message[0].isupper() and error.message.endswith(".")
    assert len(error.message) > 20
    assert row.source


@pytest.mark.parametrize(("code", "expected"), sorted(EXPECTED.items()), ids=str)
def test_it_maps_each_code_from_the_wire(
    code: str, expected: tuple[Category, AuthReason | None]
) -> None:
    if code.startswith("upload_"):
        status = 503 if code == "upload_5xx" else int(code.removeprefix("upload_"))
        error = upload_error(Response(status=status, headers={}, content=b"", url=""))
    elif code in OAUTH_CODES:
        error = error_from_response(_response(400, {"error": code, "error_description": "d"}))
    else:
        error = error_from_response(_response(400, tiktok_err(code)))

    assert error is not None
    assert (error.category, error.auth_reason) == expected
    assert error.code == code


def test_it_takes_ok_as_success() -> None:
    assert error_from_response(_response(200, {"data": {}, "error": {"code": "ok"}})) is None
    assert error_from_response(_response(200, {"access_token": "act.x"})) is None


def test_it_uses_the_retry_after_header_for_rate_limits() -> None:
    error = error_from_response(
        _response(429, tiktok_err("rate_limit_exceeded"), {"Retry-After": "17"})
    )

    assert error is not None
    assert (error.category, error.retry_after) == (Category.RATE_LIMIT, 17)


def test_it_falls_back_to_the_documented_window_without_retry_after() -> None:
    error = error_from_response(_response(429, tiktok_err("rate_limit_exceeded")))

    assert error is not None and error.retry_after == 60


@pytest.mark.parametrize(
    ("status", "category"),
    [(429, Category.RATE_LIMIT), (401, Category.AUTH), (500, Category.TRANSIENT), (418, P)],
)
def test_it_classifies_an_unknown_code_by_status(status: int, category: Category) -> None:
    error = error_from_response(_response(status, tiktok_err("brand_new_code")))

    assert error is not None and error.category is category


def test_it_treats_a_non_json_gateway_error_as_transient_and_unknown() -> None:
    error = error_from_response(Response(status=502, headers={}, content=b"<html>", url=""))

    assert error is not None
    assert error.category is Category.TRANSIENT
    assert error.outcome_unknown is True


def test_it_keeps_the_log_id_and_the_redacted_platform_message() -> None:
    error = error_from_response(
        _response(400, tiktok_err("invalid_param", "bad field near act.abcdefghij"))
    )

    assert error is not None
    assert error.log_id == "log-2"
    assert "act.abcdefghij" not in error.detail
    assert "bad field" in error.detail
