"""Instagram's error codes → our categories, as one table (DESIGN §2 principle 8).

Row codes use PLATFORMS.md's notation: "190" (any subcode), "190/460" (code/subcode),
"200-299" (a range of codes). Lookup tries code/subcode, then the code, then the range. Two more
sources share the table: the code exchange's OAuth shape (§2.3, "oauth_400") and the container
statuses of §2.7 step 3 ("container_ERROR", "container_EXPIRED"; an ERROR's subcode is looked up
first).
"""

from __future__ import annotations

import re
from typing import Any

from apps.common.http import Response
from apps.platforms.errors import AuthReason, Category, ErrorRow, Platform, PlatformError
from apps.platforms.errors import parse_retry_after as _parse_retry_after
from apps.platforms.transport import header, json_object

RECONNECT = "reconnect the account"
_REVOKED = f"Instagram invalidated this account's access; {RECONNECT}."

ERROR_TABLE: tuple[ErrorRow, ...] = (
    # --- Auth (§2.9, §4.1-4.7). [judgment] graph.instagram.com often omits the subcode, so any
    # 190 means re-auth; the subcode only picks the reason and sentence.
    ErrorRow(
        "190",
        Category.AUTH,
        f"Instagram rejected the account's token (expired or revoked); {RECONNECT}.",
        AuthReason.EXPIRED,
        source="2.9, 4.1",
    ),
    ErrorRow(
        "102",
        Category.AUTH,
        f"Instagram rejected the account's session; {RECONNECT}.",
        AuthReason.EXPIRED,
        source="2.9",
    ),
    ErrorRow(
        "190/458",
        Category.AUTH,
        f"The account owner removed Switchboard from Instagram; {RECONNECT}.",
        AuthReason.REVOKED,
        source="2.9, 4.4",
    ),
    ErrorRow(
        "190/459",
        Category.AUTH,
        "Instagram locked this account behind a security check; the owner "
        f"must log in to Instagram to clear it, then {RECONNECT}.",
        AuthReason.CHECKPOINT,
        source="2.9, 4.7",
    ),
    ErrorRow(
        "190/460",
        Category.AUTH,
        f"The Instagram password was changed, which ended Switchboard's access; {RECONNECT}.",
        AuthReason.PASSWORD_CHANGED,
        source="2.9, 4.6",
    ),
    ErrorRow("190/461", Category.AUTH, _REVOKED, AuthReason.REVOKED, source="2.9 (older lists)"),
    ErrorRow("190/462", Category.AUTH, _REVOKED, AuthReason.REVOKED, source="2.9 (older lists)"),
    ErrorRow(
        "190/463",
        Category.AUTH,
        f"The Instagram token expired (they last 60 days); {RECONNECT}.",
        AuthReason.EXPIRED,
        source="2.9, 4.1",
    ),
    ErrorRow(
        "190/464",
        Category.AUTH,
        "Instagram needs the account owner to confirm their account; they "
        f"must log in to Instagram, then {RECONNECT}.",
        AuthReason.CHECKPOINT,
        source="2.9, 4.7",
    ),
    ErrorRow("190/465", Category.AUTH, _REVOKED, AuthReason.REVOKED, source="2.9 (older lists)"),
    ErrorRow("190/466", Category.AUTH, _REVOKED, AuthReason.REVOKED, source="2.9 (older lists)"),
    # §4.6 groups 467/492 with a password change: the user's session ended, so log in again.
    ErrorRow(
        "190/467",
        Category.AUTH,
        "The Instagram session ended (the owner logged out or changed "
        f"security settings); {RECONNECT}.",
        AuthReason.PASSWORD_CHANGED,
        source="2.9, 4.6",
    ),
    ErrorRow("190/468", Category.AUTH, _REVOKED, AuthReason.REVOKED, source="2.9 (older lists)"),
    ErrorRow(
        "190/492",
        Category.AUTH,
        f"The Instagram session is no longer valid; {RECONNECT}.",
        AuthReason.PASSWORD_CHANGED,
        source="2.9, 4.6",
    ),
    ErrorRow(
        "10",
        Category.AUTH,
        "The Instagram account did not grant a permission this action needs; "
        f"{RECONNECT} and allow it.",
        AuthReason.SCOPE_MISSING,
        source="2.9, 4.9",
    ),
    ErrorRow(
        "200-299",
        Category.AUTH,
        "The Instagram account's permissions are missing or were removed; "
        f"{RECONNECT} and allow them.",
        AuthReason.SCOPE_MISSING,
        source="2.9, 4.9",
    ),
    # §2.3: the code-exchange endpoint's own shape, e.g. "Matching code was not found or was
    # already used" — the one-hour, single-use code is spent.
    ErrorRow(
        "oauth_400",
        Category.AUTH,
        "The Instagram sign-in code expired or was already used; start "
        "connecting the account again.",
        AuthReason.EXPIRED,
        source="2.3",
    ),
    # --- Throttling (§2.9, §2.10, §4.13). Meta sends no Retry-After; BUC windows are hours.
    ErrorRow(
        "4",
        Category.RATE_LIMIT,
        "Instagram is throttling Switchboard's app; Switchboard will wait and try again.",
        source="2.9, 4.13",
    ),
    ErrorRow(
        "17",
        Category.RATE_LIMIT,
        "Instagram is throttling requests for this account; Switchboard will wait and try again.",
        source="2.9, 4.13",
    ),
    ErrorRow(
        "32",
        Category.RATE_LIMIT,
        "Instagram is throttling requests for this account; Switchboard will wait and try again.",
        source="2.9, 4.13",
    ),
    ErrorRow(
        "613",
        Category.RATE_LIMIT,
        "Instagram is throttling requests; Switchboard will wait and try again.",
        source="2.9, 4.13",
    ),
    ErrorRow(
        "341",
        Category.RATE_LIMIT,
        "Switchboard's Instagram app hit an application limit; Switchboard will "
        "wait and try again.",
        source="2.9",
    ),
    ErrorRow(
        "368",
        Category.PERMANENT,
        "Instagram blocked this action for violating its policies; the account "
        "owner must resolve it in Instagram.",
        source="2.9",
    ),
    ErrorRow(
        "1",
        Category.TRANSIENT,
        "Instagram had an unknown error; Switchboard will try again.",
        source="2.9",
    ),
    ErrorRow(
        "2",
        Category.TRANSIENT,
        "Instagram's service is temporarily unavailable; Switchboard will try again.",
        source="2.9",
    ),
    # --- Publishing (§2.9, §4.11-4.17)
    ErrorRow(
        "-2/2207003",
        Category.TRANSIENT,
        "Instagram timed out downloading the video; Switchboard will try again.",
        restart=True,
        source="2.9, 4.15",
    ),
    ErrorRow(
        "-2/2207020",
        Category.TRANSIENT,
        "The Instagram upload expired; Switchboard will prepare it again.",
        restart=True,
        source="2.9, 4.17",
    ),
    ErrorRow(
        "-1/2207001",
        Category.TRANSIENT,
        "Instagram had a server error while preparing the video; "
        "Switchboard will prepare it again.",
        restart=True,
        source="2.9",
    ),
    ErrorRow(
        "-1/2207032",
        Category.TRANSIENT,
        "Instagram failed to prepare the video; Switchboard will prepare it again.",
        restart=True,
        source="2.9",
    ),
    ErrorRow(
        "-1/2207053",
        Category.TRANSIENT,
        "Instagram had an upload error; Switchboard will prepare the video again.",
        restart=True,
        source="2.9",
    ),
    ErrorRow(
        "1/2207057",
        Category.CONTENT,
        "The cover frame time is outside the video; pick an earlier cover frame.",
        source="2.9",
    ),
    ErrorRow(
        "4/2207051",
        Category.CONTENT,
        "Instagram flagged this post as suspected spam; it will not be retried automatically.",
        source="2.9, 4.16",
    ),
    ErrorRow(
        "9/2207042",
        Category.QUOTA,
        "This Instagram account reached its daily publishing limit; the post must be rescheduled.",
        source="2.9, 4.12",
    ),
    ErrorRow(
        "24/2207006",
        Category.TRANSIENT,
        "Instagram could not find the prepared video (it may have expired); "
        "Switchboard will prepare it again.",
        restart=True,
        source="2.9",
    ),
    # "retry 1-2x within 30 s-2 min, then recreate": the caller escalates to a new container.
    ErrorRow(
        "24/2207008",
        Category.TRANSIENT,
        "Instagram has not found the prepared video yet; Switchboard will try again shortly.",
        retry_after=30,
        source="2.9, 4.17",
    ),
    ErrorRow(
        "25/2207050",
        Category.PERMANENT,
        "Instagram restricted this account (inactive, checkpointed or "
        "limited); the owner must fix it in the Instagram app.",
        source="2.9, 4.5, 4.11",
    ),
    ErrorRow(
        "100/2207023",
        Category.PERMANENT,
        "Instagram did not accept the media type Switchboard sent; report "
        "this to an administrator.",
        source="2.9",
    ),
    ErrorRow(
        "352/2207026",
        Category.CONTENT,
        "Instagram does not support this video's format; convert it to MP4 (H.264/AAC).",
        source="2.9, 4.15",
    ),
    ErrorRow(
        "9004/2207052",
        Category.CONTENT,
        "Instagram could not fetch the video from Switchboard's media "
        "link; check that the media is publicly reachable.",
        source="2.9, 4.15",
    ),
    # Meta suggests polling once a minute (§2.7 step 3).
    ErrorRow(
        "9007/2207027",
        Category.TRANSIENT,
        "The video is not ready on Instagram yet; Switchboard will check again.",
        retry_after=60,
        source="2.7, 2.9",
    ),
    ErrorRow(
        "36004/2207010",
        Category.CONTENT,
        "The caption is too long for Instagram (2,200 characters at most).",
        source="2.9",
    ),
    ErrorRow(
        "100/2207040",
        Category.CONTENT,
        "The caption tags too many accounts for Instagram (20 @mentions at most).",
        source="2.9",
    ),
    # §2.5, §4.3: refused locally before any call; a young token is "not yet", never "dead".
    ErrorRow(
        "token_too_young",
        Category.TRANSIENT,
        "The Instagram token is less than a day old, so it cannot be "
        "refreshed yet; Switchboard will refresh it later.",
        source="2.5, 4.3",
    ),
    # --- Container status values (§2.7 step 3)
    ErrorRow(
        "container_ERROR", Category.CONTENT, "Instagram could not process the video.", source="2.7"
    ),
    ErrorRow(
        "container_EXPIRED",
        Category.TRANSIENT,
        "The prepared Instagram video expired before it was "
        "published (24 h); Switchboard will prepare it again.",
        restart=True,
        source="2.7, 4.17",
    ),
)

ERRORS_BY_CODE: dict[str, ErrorRow] = {row.code: row for row in ERROR_TABLE}
# A publishing subcode (2207xxx) names one failure whatever the code; container ERROR statuses
# carry only the subcode.
ERRORS_BY_SUBCODE: dict[str, ErrorRow] = {
    row.code.split("/")[1]: row for row in ERROR_TABLE if "/2207" in row.code
}
PERMISSION_CODES = range(200, 300)
_SUBCODE_IN_TEXT = re.compile(r"\b(2207\d{3})\b")


def row_for(
    code: int | str | None, subcode: int | str | None = None, *, http_status: int | None = None
) -> ErrorRow:
    """The table row for a Graph code/subcode; unknown codes fall back on the HTTP status."""
    code_s = "" if code is None else str(code)
    if subcode not in (None, "") and f"{code_s}/{subcode}" in ERRORS_BY_CODE:
        return ERRORS_BY_CODE[f"{code_s}/{subcode}"]
    if subcode not in (None, "") and str(subcode) in ERRORS_BY_SUBCODE:
        return ERRORS_BY_SUBCODE[str(subcode)]
    if code_s in ERRORS_BY_CODE:
        return ERRORS_BY_CODE[code_s]
    if code_s.lstrip("-").isdigit() and int(code_s) in PERMISSION_CODES:
        return ERRORS_BY_CODE["200-299"]
    label = code_s if subcode in (None, "") else f"{code_s}/{subcode}"
    if http_status == 429:
        return ERRORS_BY_CODE["4"]
    if http_status is not None and http_status >= 500:
        return ErrorRow(
            label or f"http_{http_status}",
            Category.TRANSIENT,
            "Instagram had an internal error; Switchboard will try again.",
        )
    return ErrorRow(
        label or f"http_{http_status}",
        Category.PERMANENT,
        "Instagram returned an error Switchboard "
        "does not recognise; report this to an administrator.",
    )


def error_for(
    code: int | str | None,
    subcode: int | str | None = None,
    *,
    http_status: int | None = None,
    detail: str = "",
    log_id: str = "",
) -> PlatformError:
    row = row_for(code, subcode, http_status=http_status)
    return PlatformError.from_row(
        row, platform=Platform.INSTAGRAM, http_status=http_status, detail=detail, log_id=log_id
    )


def container_error(status_code: str, status: str) -> PlatformError:
    """A container's ERROR/EXPIRED status as a PlatformError (the subcode sits in `status`)."""
    match = _SUBCODE_IN_TEXT.search(status or "")
    if status_code == "ERROR" and match and match.group(1) in ERRORS_BY_SUBCODE:
        return PlatformError.from_row(
            ERRORS_BY_SUBCODE[match.group(1)], platform=Platform.INSTAGRAM, detail=status
        )
    return error_for(f"container_{status_code}", detail=status)


def error_from_response(response: Response) -> PlatformError | None:
    """The failure an Instagram response carries, or None when it is a success."""
    body: dict[str, Any] = json_object(response)
    error = body.get("error")
    retry_after = _parse_retry_after(header(response, "Retry-After"))
    if isinstance(error, dict):  # Graph envelope (§2.9), on any HTTP status
        row = row_for(error.get("code"), error.get("error_subcode"), http_status=response.status)
        # Meta marks some unknown errors transient; trust it only where our table has no row.
        if row.code not in ERRORS_BY_CODE and error.get("is_transient") is True:
            row = ErrorRow(
                row.code,
                Category.TRANSIENT,
                "Instagram had a temporary error; Switchboard will try again.",
            )
        return PlatformError.from_row(
            row,
            platform=Platform.INSTAGRAM,
            http_status=response.status,
            retry_after=retry_after,
            log_id=str(error.get("fbtrace_id") or ""),
            detail=str(error.get("message") or ""),
        )
    if "error_type" in body or "error_message" in body:  # code-exchange shape (§2.3)
        code = body.get("code")
        row = (
            ERRORS_BY_CODE["oauth_400"]
            if str(code) == "400"
            else row_for(code, http_status=response.status)
        )
        return PlatformError.from_row(
            row,
            platform=Platform.INSTAGRAM,
            http_status=response.status,
            detail=str(body.get("error_message") or ""),
        )
    if response.ok:
        return None
    return PlatformError.from_row(
        row_for(None, http_status=response.status),
        platform=Platform.INSTAGRAM,
        http_status=response.status,
        retry_after=retry_after,
        detail=response.text[:200],
    )
