"""The rule table (apps/publishing/preflight/table.py) matches what preflight does: every code
preflight can emit has a row, read from the source; every (code, platform, severity) emitted
by the expectation tables of test_preflight.py is a row; and every row is emitted by some case."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from apps.publishing.preflight import RULES, Finding, run_preflight, table_text
from tests.publishing import test_preflight as cases

APP = Path(__file__).resolve().parents[2] / "apps" / "publishing"


CODE_SHAPE = re.compile(r"[a-z0-9]+\.[a-z_]+")


def codes_in_source() -> tuple[set[str], list[str]]:
    """Rule codes written in the source — the literal code of a `finding(...)` or
    `OptionProblem(...)` call, and every string shaped like "width.min" (the tables a loop
    passes on) — and the calls whose code is an expression no scan can follow (f-strings,
    concatenation)."""
    found: set[str] = set()
    unfollowed: list[str] = []
    sources = [p for p in APP.glob("preflight/*.py") if p.name != "table.py"]
    for path in sorted([*sources, APP / "options.py"]):
        for node in ast.walk(ast.parse(path.read_text())):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and CODE_SHAPE.fullmatch(text):
                found.add(text)
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            position = {"finding": 0, "OptionProblem": 1}.get(node.func.id)
            if position is None or len(node.args) <= position:
                continue
            code = node.args[position]
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                found.add(code.value)
            elif not isinstance(code, ast.Name | ast.Attribute):
                unfollowed.append(f"{path.name}:{node.lineno}")
    return found, unfollowed


def test_every_code_written_in_the_source_has_a_row() -> None:
    found, unfollowed = codes_in_source()
    assert unfollowed == []
    assert found - {rule.code for rule in RULES} == set()
    assert {rule.code for rule in RULES} - found == set()  # and no row is dead text


def every_finding() -> list[Finding]:
    found: list[Finding] = []
    for _, changes, _, _ in cases.MEDIA_CASES:
        found += run_preflight(
            probe=dataclasses.replace(cases.GOOD, **changes), targets=cases.targets()
        )
    for (
        _,
        tiktok,
        tiktok_options,
        instagram,
        instagram_options,
        changes,
        _,
        _,
    ) in cases.ACCOUNT_CASES:
        found += run_preflight(
            probe=dataclasses.replace(cases.GOOD, **changes),
            targets=cases.targets(
                dataclasses.replace(cases.TIKTOK, **tiktok),
                dataclasses.replace(cases.INSTAGRAM, **instagram),
                tiktok_options or cases.TIKTOK_OPTIONS,
                instagram_options,
            ),
        )
    found += run_preflight(probe=None, targets=[])
    found += run_preflight(probe=None, media_pending=True, targets=cases.targets())
    found += run_preflight(probe=None, media_error="Damaged.", targets=cases.targets())
    found += run_preflight(
        probe=cases.GOOD,
        targets=cases.targets(caption="#t " * 31 + "@u " * 21 + "x" * 2200),
    )
    return found


def test_every_emitted_finding_is_a_row_and_every_row_is_emitted() -> None:
    emitted = {(f.rule, f.platform, f.severity) for f in every_finding()}
    rows = {(rule.code, rule.platform, rule.severity) for rule in RULES}
    assert emitted - rows == set()
    assert rows - emitted == set()


def test_each_row_is_unique_and_has_a_source() -> None:
    keys = [(rule.code, rule.platform) for rule in RULES]
    assert len(keys) == len(set(keys))
    for rule in RULES:
        assert rule.source.startswith(("PLATFORMS §", "DESIGN §")), rule


def test_the_table_prints_one_line_per_rule() -> None:
    lines = table_text().splitlines()
    assert lines[0].split() == ["rule", "platform", "severity", "source"]
    assert len(lines) == len(RULES) + 1
    assert any(line.split()[:3] == ["duration.max", "tiktok", "error"] for line in lines)
