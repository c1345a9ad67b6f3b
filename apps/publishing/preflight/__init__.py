"""Preflight: will each platform take this post? (DESIGN §6, PLATFORMS §1.6, §1.11, §2.7, §2.8, §3)

Pure functions: (probe, caption, per-platform options, the account's state, capability and creator
info) → findings. No database, no network: the caller gathers the inputs (the composer as staff
type, the schedule action, and the dispatcher when a post becomes due) and runs the same code.
Every limit comes from the rules modules in `apps/platforms/` (gathered in limits.py); every
rule has a row in table.py, which gives it its severity and source.

- types.py: the inputs (TargetInput, AccountContext, CreatorInfo) and the result (Finding);
- run.py: `run_preflight()` and the per-platform registry;
- media.py, caption.py, accounts.py: the rules (options through apps/publishing/options.py).
"""

from __future__ import annotations

from apps.publishing.preflight.run import run_preflight
from apps.publishing.preflight.table import RULES, Rule, table_text
from apps.publishing.preflight.types import (
    AccountContext,
    CreatorInfo,
    Finding,
    Severity,
    TargetInput,
)

__all__ = [
    "RULES",
    "AccountContext",
    "CreatorInfo",
    "Finding",
    "Rule",
    "Severity",
    "TargetInput",
    "run_preflight",
    "table_text",
]
