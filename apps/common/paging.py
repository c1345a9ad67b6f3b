"""Pages of a list without counting the whole list (DESIGN §11: pages stay flat as the agency
grows). A page fetches one row more than it shows to learn whether there is a next one; there is
no total and no last page, so nothing scans every row to draw the pager."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, QuerySet

T = TypeVar("T")
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Window(Generic[T]):
    object_list: list[T]
    number: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)


def page_number(value: Any) -> int:
    """The page asked for, 1 for anything that is not a positive number."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return number if number > 0 else 1


def window(queryset: QuerySet[M], *, number: Any, per_page: int) -> Window[M]:
    """Page `number` (1-based) of an ordered queryset, in one query of per_page + 1 rows."""
    current = page_number(number)
    offset = (current - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    return Window(
        object_list=rows[:per_page],
        number=current,
        per_page=per_page,
        has_next=len(rows) > per_page,
    )
