"""An event's data in a manager's words: before and after values, then any other details.

audit_record masks secrets when it writes; this masks again when it shows, so a row written by
an older version (or by hand) can never put a token on screen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from apps.audit.services import mask_secrets

EMPTY = "—"


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class EventData:
    changes: list[Change]
    details: list[tuple[str, str]]

    def __bool__(self) -> bool:
        return bool(self.changes or self.details)


def _text(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _name(key: str) -> str:
    return key.replace("_", " ").capitalize()


def describe_data(data: Any) -> EventData:
    """The shapes audit_record's callers write: {"changes": {field: {"before", "after"}}},
    {"from", "to", ...} for a state, {"after": {...}} for a creation; anything else is listed."""
    data = mask_secrets(data)
    if not isinstance(data, dict):
        return EventData([], [("Data", _text(data))] if data else [])
    changes: list[Change] = []
    rest = dict(data)
    nested = rest.pop("changes", None)
    if isinstance(nested, dict):
        for field, change in nested.items():
            if isinstance(change, dict) and {"before", "after"} <= change.keys():
                changes.append(
                    Change(_name(field), _text(change["before"]), _text(change["after"]))
                )
            else:
                changes.append(Change(_name(field), EMPTY, _text(change)))
    elif nested is not None:
        rest["changes"] = nested
    if "from" in rest or "to" in rest:
        changes.append(Change("State", _text(rest.pop("from", None)), _text(rest.pop("to", None))))
    created = rest.pop("after", None)
    if isinstance(created, dict):
        changes += [Change(_name(k), EMPTY, _text(v)) for k, v in created.items()]
    elif created is not None:
        rest["after"] = created
    return EventData(changes, [(_name(k), _text(v)) for k, v in rest.items()])
