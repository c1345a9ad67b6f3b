"""What a connections service did, as a value: views branch on `status`, logs and task results
read `str(outcome)` ("refreshed", "skipped: not due", "failed: invalid_grant")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    DONE = "done"  # the work happened (checked fine, refreshed, disconnected)
    SKIPPED = "skipped"  # nothing to do, or not now (`detail` says why, for people)
    FAILED = "failed"  # the platform refused or failed (`detail` is its error code)
    RETRY = "retry"  # failed for now; the sweep tries again


@dataclass(frozen=True)
class Outcome:
    status: Status
    detail: str = ""
    # The word for a success in logs: "ok", "refreshed", "disconnected".
    done_word: str = "done"

    @property
    def ok(self) -> bool:
        return self.status is Status.DONE

    @property
    def skipped(self) -> bool:
        return self.status is Status.SKIPPED

    def __str__(self) -> str:
        if self.status is Status.DONE:
            return self.done_word
        word = "error" if self.status is Status.FAILED and self.done_word == "ok" else self.status
        return f"{word}: {self.detail}" if self.detail else str(word)


def checked() -> Outcome:
    return Outcome(Status.DONE, done_word="ok")


def check_failed(code: str) -> Outcome:
    return Outcome(Status.FAILED, code, done_word="ok")


def refreshed() -> Outcome:
    return Outcome(Status.DONE, done_word="refreshed")


def disconnected() -> Outcome:
    return Outcome(Status.DONE, done_word="disconnected")


def skipped(why: str) -> Outcome:
    return Outcome(Status.SKIPPED, why)


def failed(code: str) -> Outcome:
    return Outcome(Status.FAILED, code)


def retry() -> Outcome:
    return Outcome(Status.RETRY)
