"""Graph API versions and the day Meta stops serving each (PLATFORMS §2.1), as one table.

`INSTAGRAM_GRAPH_VERSION` picks the version our versioned Graph calls use; the system check in
`apps/platforms/checks.py` reads this table to warn before that version is switched off.

Source: Meta's Graph API changelog, "Versions" table (developers.facebook.com/docs/graph-api/
changelog/versions, English and localised copies as stored on 2026-11-30), which gives each
version's release date and the date it is "available until". The table follows a fixed rule: a
version expires two years after its successor is released (v23.0, released 2025-05-29, is served
until 2027-10-08 because v24.0 came out on 2025-10-08 — the date PLATFORMS §2.1 also gives).
v26.0 (released 2026-07-29) is listed there as "TBD", and v27.0, the newest per PLATFORMS §2.1
(Meta's changelog, 2026-11), is not in the copy we found at all.

[judgment] Where Meta has published no date we record None, "no known sunset", rather than
deriving one from the two-year rule: the check then stays quiet for that version instead of
warning on a guess. Update this table when Meta publishes a date (the changelog, or the
"Available until" column of graph-api/changelog).
"""

from __future__ import annotations

from datetime import date

# version → the changelog's expiration ("available until") date, taken as the first day Meta no
# longer serves it; None = no known sunset.
SUNSETS: dict[str, date | None] = {
    "v14.0": date(2024, 9, 17),
    "v15.0": date(2024, 11, 20),
    "v16.0": date(2025, 5, 14),
    "v17.0": date(2025, 9, 12),
    "v18.0": date(2026, 1, 26),
    "v19.0": date(2026, 5, 21),
    "v20.0": date(2026, 9, 24),
    "v21.0": date(2027, 1, 21),
    "v22.0": date(2027, 5, 20),
    "v23.0": date(2027, 10, 8),
    "v24.0": date(2028, 2, 18),
    "v25.0": date(2028, 7, 29),
    "v26.0": None,  # "TBD" in the changelog: two years after v27.0's release
    "v27.0": None,  # newest per PLATFORMS §2.1; not yet in the changelog copy we found
}

# The version config/settings.py defaults to: current, with a known sunset far ahead, and the
# one the 2026-09 mirrors of Meta's docs show (§2.1 "use v25.0 or newer").
RECOMMENDED = "v25.0"

# Warn this many days ahead of a sunset: enough for a release cycle to move to a newer version.
WARN_DAYS = 90


def sunset(version: str) -> date | None:
    """The day Meta stops serving `version`, or None when unknown (or not a version we know)."""
    return SUNSETS.get(version)


def is_known(version: str) -> bool:
    return version in SUNSETS
