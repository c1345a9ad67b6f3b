"""TikTok's error codes → our categories, as one table (DESIGN §2 principle 8).

Codes come from four places that share one namespace: OAuth `error` values (PLATFORMS §1.3),
v2 envelope `error.code` values (§1.6, §1.8), status `fail_reason` values (§1.6(f)) and the
upload PUT's HTTP statuses (§1.6(d), keyed `upload_<status>`). §4 decides the category where the
docs only describe the symptom.
"""

from __future__ import annotations

from apps.common.http import Response
from apps.platforms.errors import AuthReason, Category, ErrorRow, Platform, PlatformError
from apps.platforms.errors import parse_retry_after as _parse_retry_after
from apps.platforms.transport import header, json_object

RECONNECT = "reconnect the account"

ERROR_TABLE: tuple[ErrorRow, ...] = (
    # --- OAuth token/revoke endpoint, `{"error": "<code>"}` (§1.3, /doc/oauth-error-handling)
    ErrorRow(
        "access_denied",
        Category.AUTH,
        f"The TikTok user declined access; {RECONNECT} and approve it.",
        AuthReason.REVOKED,
        source="1.3",
    ),
    ErrorRow(
        "invalid_client",
        Category.PERMANENT,
        "TikTok rejected Switchboard's client key or secret; an "
        "administrator must check the TikTok app settings.",
        source="1.3",
    ),
    # Code or refresh token invalid, expired, revoked or reused after rotation (§4.2).
    ErrorRow(
        "invalid_grant",
        Category.AUTH,
        f"TikTok no longer accepts this account's authorization (it "
        f"expired or was revoked); {RECONNECT}.",
        AuthReason.EXPIRED,
        source="1.3, 4.2",
    ),
    ErrorRow(
        "invalid_request",
        Category.PERMANENT,
        "TikTok rejected Switchboard's sign-in request as malformed; "
        "report this to an administrator.",
        source="1.3",
    ),
    ErrorRow(
        "invalid_scope",
        Category.PERMANENT,
        "TikTok refused a permission Switchboard asked for; an "
        "administrator must check the scopes enabled for the TikTok app.",
        source="1.3",
    ),
    ErrorRow(
        "unauthorized_client",
        Category.PERMANENT,
        "The TikTok app is not allowed to use this sign-in method; "
        "an administrator must check the TikTok app settings.",
        source="1.3",
    ),
    ErrorRow(
        "unsupported_grant_type",
        Category.PERMANENT,
        "TikTok rejected Switchboard's token request type; report this to an administrator.",
        source="1.3",
    ),
    ErrorRow(
        "unsupported_response_type",
        Category.PERMANENT,
        "TikTok rejected Switchboard's sign-in request type; report this to an administrator.",
        source="1.3",
    ),
    ErrorRow(
        "server_error",
        Category.TRANSIENT,
        "TikTok's sign-in service had an internal error; Switchboard will try again.",
        source="1.3",
    ),
    ErrorRow(
        "temporarily_unavailable",
        Category.TRANSIENT,
        "TikTok's sign-in service is temporarily unavailable; Switchboard will try again.",
        source="1.3",
    ),
    # --- Generic v2 envelope codes (§1.8)
    # "refresh, then reconnect" (§4.1): the caller refreshes once on EXPIRED before giving up.
    ErrorRow(
        "access_token_invalid",
        Category.AUTH,
        "TikTok rejected the account's access token; Switchboard "
        f"will refresh it, and if that fails you must {RECONNECT}.",
        AuthReason.EXPIRED,
        source="1.8, 4.1",
    ),
    ErrorRow(
        "scope_not_authorized",
        Category.AUTH,
        "The TikTok account did not grant a permission this "
        f"action needs; {RECONNECT} and allow it.",
        AuthReason.SCOPE_MISSING,
        source="1.8, 4.9",
    ),
    ErrorRow(
        "scope_permission_missed",
        Category.AUTH,
        "The TikTok account did not grant a permission needed "
        f"for this information; {RECONNECT} and allow it.",
        AuthReason.SCOPE_MISSING,
        source="1.5, 1.8",
    ),
    # The content-posting pages spell it `invalid_param`; both spellings are live (§1.8).
    ErrorRow(
        "invalid_params",
        Category.PERMANENT,
        "TikTok rejected the request's parameters; report this to an administrator.",
        source="1.8",
    ),
    ErrorRow(
        "invalid_param",
        Category.PERMANENT,
        "TikTok rejected the post's settings as invalid; check the "
        "post options, then report it if it persists.",
        source="1.6(b)",
    ),
    ErrorRow(
        "invalid_file_upload",
        Category.CONTENT,
        "TikTok rejected the uploaded video file.",
        source="1.8",
    ),
    # 1-minute sliding window (§1.7), so a minute is a safe wait when no Retry-After comes.
    ErrorRow(
        "rate_limit_exceeded",
        Category.RATE_LIMIT,
        "TikTok is throttling requests; Switchboard will wait and try again.",
        retry_after=60,
        source="1.7, 1.8",
    ),
    ErrorRow(
        "internal_error",
        Category.TRANSIENT,
        "TikTok had an internal error; Switchboard will try again.",
        source="1.6(f), 1.8",
    ),
    # --- Content Posting API (§1.6(a)(b)(c)(e)(f), §1.6(h), §4.11-4.17)
    ErrorRow(
        "spam_risk_too_many_posts",
        Category.QUOTA,
        "This TikTok account reached its daily posting "
        "limit; the post must be rescheduled for tomorrow.",
        source="1.6(b), 1.6(h), 4.12",
    ),
    ErrorRow(
        "spam_risk_user_banned_from_posting",
        Category.PERMANENT,
        "TikTok has barred this account from "
        "posting; the account owner must resolve it in the TikTok app.",
        source="1.6(b), 4.11",
    ),
    ErrorRow(
        "reached_active_user_cap",
        Category.QUOTA,
        "Switchboard's TikTok app reached its daily limit of "
        "posting accounts; try again tomorrow or ask an administrator to raise the cap.",
        source="1.6(b), 1.6(h), 4.12",
    ),
    ErrorRow(
        "spam_risk_too_many_pending_share",
        Category.QUOTA,
        "This TikTok account has too many uploads "
        "waiting in its inbox; the owner must post or discard some first.",
        source="1.6(c), 4.12",
    ),
    ErrorRow(
        "unaudited_client_can_only_post_to_private_accounts",
        Category.PERMANENT,
        "Switchboard's TikTok "
        "app is not audited yet, so it can only post privately to private accounts.",
        source="1.6(b), 1.6(h), 4.14",
    ),
    ErrorRow(
        "url_ownership_unverified",
        Category.PERMANENT,
        "TikTok has not verified Switchboard's media "
        "domain; an administrator must verify it in the TikTok developer portal.",
        source="1.6(b), 1.6(e), 4.14",
    ),
    ErrorRow(
        "privacy_level_option_mismatch",
        Category.PERMANENT,
        "The chosen TikTok privacy level is not "
        "available for this account; pick one of the options TikTok offers.",
        source="1.6(b), 4.14",
    ),
    # Stale or unknown publish id: start again from init (§4.17).
    ErrorRow(
        "invalid_publish_id",
        Category.TRANSIENT,
        "TikTok no longer knows this upload; Switchboard will start the upload again.",
        restart=True,
        source="1.6(f), 4.17",
    ),
    ErrorRow(
        "token_not_authorized_for_specified_publish_id",
        Category.PERMANENT,
        "This upload belongs to a different TikTok account than the one connected.",
        source="1.6(f)",
    ),
    ErrorRow(
        "publish_not_cancellable",
        Category.PERMANENT,
        "TikTok can no longer cancel this post.",
        source="1.6(e)",
    ),
    # --- `fail_reason` of a FAILED status or post.publish.failed webhook (§1.6(f))
    ErrorRow(
        "file_format_check_failed",
        Category.CONTENT,
        "TikTok rejected the video's file format.",
        source="1.6(f), 4.15",
    ),
    ErrorRow(
        "duration_check_failed",
        Category.CONTENT,
        "TikTok rejected the video's length for this account.",
        source="1.6(f), 4.15",
    ),
    ErrorRow(
        "frame_rate_check_failed",
        Category.CONTENT,
        "TikTok rejected the video's frame rate (it must be 23-60 fps).",
        source="1.6(f), 1.6(g)",
    ),
    ErrorRow(
        "picture_size_check_failed",
        Category.CONTENT,
        "TikTok rejected the video's dimensions (each side must be 360-4096 px).",
        source="1.6(f), 1.6(g)",
    ),
    ErrorRow(
        "internal",
        Category.TRANSIENT,
        "TikTok failed while processing the video; Switchboard will try again.",
        restart=True,
        source="1.6(f)",
    ),
    # "retry if URL OK": a fresh init re-pulls the file.
    ErrorRow(
        "video_pull_failed",
        Category.TRANSIENT,
        "TikTok could not download the video from Switchboard; Switchboard will try again.",
        restart=True,
        source="1.6(f), 4.15",
    ),
    ErrorRow(
        "photo_pull_failed",
        Category.TRANSIENT,
        "TikTok could not download the photo from Switchboard; Switchboard will try again.",
        restart=True,
        source="1.6(f)",
    ),
    ErrorRow(
        "publish_cancelled",
        Category.PERMANENT,
        "The TikTok post was cancelled.",
        source="1.6(e), 1.6(f)",
    ),
    ErrorRow(
        "auth_removed",
        Category.AUTH,
        f"The account owner removed Switchboard's access on TikTok during the upload; {RECONNECT}.",
        AuthReason.REVOKED,
        source="1.6(f), 4.4",
    ),
    ErrorRow(
        "spam_risk_text",
        Category.CONTENT,
        "TikTok flagged the caption as spam; edit the caption before posting again.",
        source="1.6(f), 4.16",
    ),
    ErrorRow(
        "spam_risk",
        Category.CONTENT,
        "TikTok flagged this post as spam; it will not be retried automatically.",
        source="1.6(f), 4.16",
    ),
    # --- Upload PUT replies (§1.6(d)); 416 is normally absorbed by resuming, see upload.py
    ErrorRow(
        "upload_400",
        Category.PERMANENT,
        "TikTok rejected a piece of the video upload as malformed; report "
        "this to an administrator.",
        source="1.6(d)",
    ),
    ErrorRow(
        "upload_403",
        Category.TRANSIENT,
        "The TikTok upload link expired (it lasts one hour); Switchboard "
        "will start the upload again.",
        restart=True,
        source="1.6(d), 4.17",
    ),
    ErrorRow(
        "upload_404",
        Category.TRANSIENT,
        "TikTok no longer knows this upload; Switchboard will start the upload again.",
        restart=True,
        source="1.6(d)",
    ),
    ErrorRow(
        "upload_416",
        Category.TRANSIENT,
        "TikTok and Switchboard disagree on how much of the video was "
        "uploaded; Switchboard will start the upload again.",
        restart=True,
        source="1.6(d)",
    ),
    ErrorRow(
        "upload_5xx",
        Category.TRANSIENT,
        "TikTok failed to store a piece of the video; Switchboard will try again.",
        source="1.6(d)",
    ),
)

ERRORS_BY_CODE: dict[str, ErrorRow] = {row.code: row for row in ERROR_TABLE}

# A code missing from the table falls back on the HTTP status (§1.8 lists the statuses).
_FALLBACK_BY_STATUS: dict[int, str] = {401: "access_token_invalid", 429: "rate_limit_exceeded"}


def row_for(code: str, *, http_status: int | None = None) -> ErrorRow:
    """The table row for a code; an unknown code is classified by its HTTP status."""
    if code in ERRORS_BY_CODE:
        return ERRORS_BY_CODE[code]
    if http_status in _FALLBACK_BY_STATUS:
        return ERRORS_BY_CODE[_FALLBACK_BY_STATUS[http_status]]
    if http_status is not None and http_status >= 500:
        return ErrorRow(
            code or f"http_{http_status}",
            Category.TRANSIENT,
            "TikTok had an internal error; Switchboard will try again.",
        )
    return ErrorRow(
        code or f"http_{http_status}",
        Category.PERMANENT,
        "TikTok returned an error Switchboard does not recognise; report this to an administrator.",
    )


def error_for_code(
    code: str, *, http_status: int | None = None, log_id: str = "", detail: str = ""
) -> PlatformError:
    """A PlatformError for a code that arrived outside a response (fail_reason, webhook)."""
    row = row_for(code, http_status=http_status)
    return PlatformError.from_row(
        row, platform=Platform.TIKTOK, http_status=http_status, log_id=log_id, detail=detail
    )


def error_from_response(response: Response) -> PlatformError | None:
    """The failure a TikTok API/OAuth response carries, or None when it is a success.

    Branches on the body, not the status: spam/cap codes and even `invalid_grant` arrive with
    HTTP 200 (§1.3, §1.6(a)).
    """
    body = json_object(response)
    error = body.get("error")
    code = ""
    detail = ""
    log_id = str(body.get("log_id") or "")
    if isinstance(error, dict):  # v2 envelope (§1.6)
        code = str(error.get("code") or "")
        detail = str(error.get("message") or "")
        log_id = str(error.get("log_id") or log_id)
        if code == "ok" and response.ok:
            return None
    elif isinstance(error, str) and error:  # OAuth shape (§1.3)
        code = error
        detail = str(body.get("error_description") or "")
    elif response.ok:
        return None
    retry_after = _parse_retry_after(header(response, "Retry-After"))
    row = row_for(code, http_status=response.status)
    return PlatformError.from_row(
        row,
        platform=Platform.TIKTOK,
        http_status=response.status,
        retry_after=retry_after,
        log_id=log_id,
        detail=detail,
    )


def upload_error(response: Response) -> PlatformError:
    """The failure of an upload PUT, keyed by its HTTP status (§1.6(d))."""
    status = response.status
    code = "upload_5xx" if status >= 500 else f"upload_{status}"
    return error_for_code(code, http_status=status, detail=response.text[:200])


# Both spellings of TikTok's "bad parameters" code (§1.8).
INVALID_PARAMS_CODES = frozenset({"invalid_params", "invalid_param"})


def chunk_plan_error(
    error: PlatformError, *, video_size: int, chunk_size: int, total_chunk_count: int
) -> PlatformError:
    """A FILE_UPLOAD init refused with `invalid_params`, told with the chunk plan we declared.

    §1.6(d): TikTok has been reported to answer multi-chunk inits with `invalid_params` "The chunk
    size is invalid" while single-chunk ones work, so staff (and whoever reads the report) need
    the plan to tell that apart from a bad post option.
    """
    if total_chunk_count == 1:
        plan = "as one chunk"
    else:
        last = video_size - (total_chunk_count - 1) * chunk_size
        plan = f"in {total_chunk_count} chunks of {chunk_size:,} bytes (the last {last:,} bytes)"
    said = f' ("{error.detail[:200]}")' if error.detail else ""
    message = (
        f"TikTok refused the upload's parameters{said}. Switchboard declared a "
        f"{video_size:,}-byte video {plan} (video_size={video_size}, chunk_size={chunk_size}, "
        f"total_chunk_count={total_chunk_count})."
    )
    if total_chunk_count > 1:
        message += (
            " TikTok has been reported to refuse uploads in several chunks; report this to an "
            "administrator."
        )
    else:
        message += " Check the post options, then report it to an administrator if it persists."
    return PlatformError(
        platform=Platform.TIKTOK,
        category=Category.PERMANENT,
        code=error.code,
        message=message,
        http_status=error.http_status,
        log_id=error.log_id,
        detail=error.detail,
    )
