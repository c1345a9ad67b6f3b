"""Thin tasks of the audit app: ids in, one service call (STYLE rule 7)."""

from __future__ import annotations

from apps.audit.services import chain_verification_step


def verify_chain_step(verification_id: int) -> None:
    chain_verification_step(verification_id=verification_id)
