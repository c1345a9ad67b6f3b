"""Over 200 generated edge-case and malformed inputs through the isolated probe and preflight
(tests/publishing/corpus.py): none raises, none outlives the probe's time limit, and each comes
out as PLATFORMS.md says it should."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from apps.platforms.types import Platform
from apps.publishing.models import MediaAsset
from apps.publishing.preflight import (
    AccountContext,
    CreatorInfo,
    Finding,
    TargetInput,
    run_preflight,
)
from apps.publishing.probe import MediaProbe, UnreadableMedia, probe_isolated
from tests.factories import MediaAssetFactory
from tests.publishing.corpus import ANYTHING, OK, UNREADABLE, Case

TIME_LIMIT_S = 20.0
# Process start-up and reaping on a busy machine, on top of the limit.
GRACE_S = 3.0

# Accounts with nothing to report, so only the media can produce findings.
TIKTOK = AccountContext(
    platform=Platform.TIKTOK,
    label="@northwind on TikTok",
    can_publish=True,
    creator=CreatorInfo(
        privacy_level_options=("PUBLIC_TO_EVERYONE", "SELF_ONLY"), max_video_post_duration_sec=600
    ),
)
INSTAGRAM = AccountContext(
    platform=Platform.INSTAGRAM, label="@northwind on Instagram", can_publish=True, posts_left=50
)
TARGETS = [
    TargetInput(TIKTOK, "New roast, out now", {"privacy_level": "PUBLIC_TO_EVERYONE"}),
    TargetInput(INSTAGRAM, "New roast, out now", {}),
]


@dataclass(frozen=True)
class Outcome:
    case: Case
    probe: MediaProbe | None
    reason: str  # the UnreadableMedia sentence
    raised: str  # anything else that escaped, as "Type: message"
    seconds: float
    findings: tuple[Finding, ...]


def _run(case: Case) -> Outcome:
    started = time.monotonic()
    probe, reason, raised = None, "", ""
    try:
        probe, _poster = probe_isolated(case.path, timeout_s=TIME_LIMIT_S)
    except UnreadableMedia as exc:
        reason = str(exc)
    except Exception as exc:
        raised = f"{type(exc).__name__}: {exc}"
    seconds = time.monotonic() - started
    findings = run_preflight(probe=probe, media_error=reason, targets=TARGETS)
    return Outcome(case, probe, reason, raised, seconds, tuple(findings))


@pytest.fixture(scope="module")
def outcomes(corpus: dict[str, Case]) -> list[Outcome]:
    # Two at a time: the machine has two cores and each probe is its own process.
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(_run, corpus.values()))


def test_the_corpus_has_at_least_200_inputs(corpus: dict[str, Case]) -> None:
    assert len(corpus) >= 200
    groups = Counter(case.group for case in corpus.values())
    assert set(groups) == {"encoded", "structure", "truncated", "damaged", "not-video", "random"}


def test_no_input_raises_or_outlives_the_time_limit(outcomes: list[Outcome]) -> None:
    assert [o.case.name for o in outcomes if o.raised] == []
    assert [o.case.name for o in outcomes if o.seconds > TIME_LIMIT_S + GRACE_S] == []


def test_each_input_comes_out_as_the_platforms_say(outcomes: list[Outcome]) -> None:
    wrong = []
    for outcome in outcomes:
        case = outcome.case
        if case.expect == ANYTHING:
            continue
        if case.expect == OK:
            got = {
                platform: frozenset(f.rule for f in outcome.findings if f.platform == platform)
                for platform in (Platform.TIKTOK.value, Platform.INSTAGRAM.value)
            }
            expected = {"tiktok": case.tiktok, "instagram": case.instagram}
            if outcome.probe is None or got != expected:
                wrong.append((case.name, outcome.reason or got, expected))
        elif case.expect == UNREADABLE:
            if outcome.probe is not None:
                wrong.append((case.name, "readable", UNREADABLE))
        elif outcome.reason != case.expect:
            wrong.append((case.name, outcome.reason or "readable", case.expect))
    assert wrong == []


def test_an_unreadable_input_blocks_with_one_finding_that_says_why(
    outcomes: list[Outcome],
) -> None:
    for outcome in outcomes:
        if outcome.probe is None:
            assert outcome.reason
            assert [(f.rule, f.message, f.blocks) for f in outcome.findings] == [
                ("media.unreadable", outcome.reason, True)
            ]


def test_it_reports_the_outcome_counts(outcomes: list[Outcome]) -> None:
    counts: Counter[str] = Counter()
    for outcome in outcomes:
        counts["ok" if outcome.probe is not None else "unreadable"] += 1
        if outcome.probe is not None and not outcome.findings:
            counts["ok, no findings"] += 1
        for finding in outcome.findings:
            counts[f"findings: {finding.severity}"] += 1
        counts[f"group {outcome.case.group}"] += 1
    slowest = max(outcomes, key=lambda o: o.seconds)
    print(f"\ncorpus: {len(outcomes)} inputs; slowest {slowest.case.name} {slowest.seconds:.2f} s")
    for key, value in sorted(counts.items()):
        print(f"  {key}: {value}")
    assert counts["ok"] + counts["unreadable"] == len(outcomes)
    assert counts["ok"] > 0 and counts["unreadable"] > 0


# Captions at and over the limits (PLATFORMS §1.6(b): TikTok ≤2200 UTF-16 units; §2.7 step 1:
# Instagram ≤2200 characters, ≤30 hashtags, ≤20 @mentions; TikTok limits no tags).
EMOJI = "🎬"  # one character, two UTF-16 units
CAPTIONS: list[tuple[str, str, str, str]] = [
    ("2200 letters", "a" * 2200, "", ""),
    ("2201 letters", "a" * 2201, "caption.length", "caption.length"),
    ("2201 UTF-16 units with emoji", EMOJI * 1100 + "a", "caption.length", ""),
    ("2200 UTF-16 units with emoji", EMOJI * 1100, "", ""),
    ("2201 characters of emoji", EMOJI * 2201, "caption.length", "caption.length"),
    ("30 hashtags", " ".join(f"#tag{i}" for i in range(30)), "", ""),
    ("31 hashtags", " ".join(f"#tag{i}" for i in range(31)), "", "caption.hashtags"),
    ("31 hashtags run together", "".join(f"#t{i}" for i in range(31)), "", "caption.hashtags"),
    ("20 mentions", " ".join(f"@user{i}" for i in range(20)), "", ""),
    ("21 mentions", " ".join(f"@user{i}" for i in range(21)), "", "caption.mentions"),
    ("21 e-mail addresses", " ".join(f"a{i}@b.example" for i in range(21)), "", ""),
    (
        "everything at once",
        EMOJI * 1101 + " ".join(f"#t{i} @u{i}" for i in range(31)),
        "caption.length",  # 2,202 units of emoji alone
        "caption.hashtags caption.mentions",  # about 1,400 characters
    ),
]


@pytest.mark.parametrize(
    ("caption", "tiktok", "instagram"),
    [case[1:] for case in CAPTIONS],
    ids=[case[0] for case in CAPTIONS],
)
def test_captions_at_and_over_the_limits(
    outcomes: list[Outcome], caption: str, tiktok: str, instagram: str
) -> None:
    base = next(o.probe for o in outcomes if o.case.name == "base")
    targets = [TargetInput(t.account, caption, t.options) for t in TARGETS]
    findings = run_preflight(probe=base, targets=targets)
    got = {
        platform: {f.rule for f in findings if f.platform == platform}
        for platform in ("tiktok", "instagram")
    }
    assert got == {"tiktok": set(tiktok.split()), "instagram": set(instagram.split())}
    assert len(got["tiktok"]) + len(got["instagram"]) == len(findings)


@pytest.mark.django_db
def test_no_input_produces_a_500_on_the_pages_that_show_it(
    outcomes: list[Outcome], client_obj, staff_member
) -> None:
    """Each outcome stored as the probe task stores it, then the asset page and the composer's
    live check for a post with that video: every page answers 200."""
    http = HttpClient()
    http.force_login(staff_member)
    check_url = reverse("publishing:preflight_new", args=[client_obj.slug])
    for outcome in outcomes:
        asset = MediaAssetFactory(
            client=client_obj,
            original_name=f"{outcome.case.name}.mp4",
            probe_state=(
                MediaAsset.ProbeState.OK if outcome.probe else MediaAsset.ProbeState.UNREADABLE
            ),
            probe=outcome.probe.to_dict() if outcome.probe else {},
            probe_error=outcome.reason,
        )
        detail = http.get(reverse("publishing:media_detail", args=[asset.pk]))
        assert detail.status_code == 200, outcome.case.name
        check = http.post(check_url, {"media": asset.pk, "caption": "New roast"})
        assert check.status_code == 200, outcome.case.name
    library = http.get(reverse("publishing:media_library", args=[client_obj.slug]))
    assert library.status_code == 200
