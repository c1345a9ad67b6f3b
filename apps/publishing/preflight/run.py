"""`run_preflight()`: the post's media state, then each target through its platform's checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apps.platforms.types import Platform
from apps.publishing.preflight import accounts
from apps.publishing.preflight.caption import caption_findings
from apps.publishing.preflight.limits import INSTAGRAM, TIKTOK, PlatformLimits
from apps.publishing.preflight.media import DurationCap, media_findings
from apps.publishing.preflight.table import POST, finding
from apps.publishing.preflight.types import AccountContext, Finding, Severity, TargetInput
from apps.publishing.probe import MediaProbe


@dataclass(frozen=True)
class PlatformPreflight:
    """One platform's checks: its limits, its duration cap and its account/option rules."""

    limits: PlatformLimits
    duration_cap: Callable[[AccountContext], DurationCap]
    target_findings: Callable[[TargetInput, MediaProbe | None], list[Finding]]


PLATFORMS: dict[str, PlatformPreflight] = {
    Platform.TIKTOK.value: PlatformPreflight(
        TIKTOK, accounts.tiktok_duration_cap, accounts.tiktok_target_findings
    ),
    Platform.INSTAGRAM.value: PlatformPreflight(
        INSTAGRAM, accounts.instagram_duration_cap, accounts.instagram_target_findings
    ),
}


def run_preflight(
    *,
    probe: MediaProbe | None,
    media_error: str = "",
    targets: list[TargetInput],
    media_pending: bool = False,
) -> list[Finding]:
    """All findings for a post: the media against each target's platform, each caption, each
    account. `probe` None with `media_error` means the file is unreadable; None without it means
    no video yet, or — with `media_pending` — still being checked. Errors come first; a finding
    two targets share (the same video on two TikTok accounts) is listed once."""
    found = _media_state(probe, media_error, media_pending)
    if not targets:
        found.append(
            finding(
                "targets.none",
                POST,
                "This post has no account to go to.",
                "Choose at least one account",
            )
        )
    for target in targets:
        checks = PLATFORMS[str(target.account.platform)]
        found.extend(checks.target_findings(target, probe))
        if probe is not None:
            cap = checks.duration_cap(target.account)
            found.extend(media_findings(checks.limits, probe, cap))
        found.extend(caption_findings(checks.limits, target.caption))
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=lambda item: item.severity != Severity.ERROR)


def _media_state(probe: MediaProbe | None, media_error: str, media_pending: bool) -> list[Finding]:
    if probe is not None:
        return []
    if media_error:
        return [
            finding(
                "media.unreadable",
                POST,
                media_error,
                "Export the video again as MP4 (H.264) and upload it.",
            )
        ]
    if media_pending:
        # Scheduling needs a probed, readable video: the checks below cannot run without it.
        return [
            finding(
                "media.pending",
                POST,
                "Still checking the video…",
                "Wait a few seconds — the checks run as soon as it is read.",
            )
        ]
    return [finding("media.missing", POST, "This post has no video yet.", "Choose a video")]
