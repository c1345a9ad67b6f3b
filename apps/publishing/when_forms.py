"""A date and a time in the client's timezone, and which one of a repeated hour (DESIGN §4:
scheduled times are edited in the client's zone and stored in UTC; apps/publishing/localtime.py
does the arithmetic). The composer's form builds on these fields; the reschedule page uses them
alone."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django import forms
from django.utils import timezone

from apps.clients.models import Client
from apps.publishing import localtime


class WhenFields(forms.Form):
    """A date and a time in the client's timezone, and which one of a repeated hour."""

    date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    time = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    fold = forms.TypedChoiceField(
        label="Which one?",
        choices=[("0", "The first time"), ("1", "The second time")],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client
        self.zone_label = localtime.zone_label(client.timezone)
        label = f"Time in {self.zone_label}"
        self.fields["date"].label = "Date"
        self.fields["time"].label = label
        self.scheduled_at: datetime | None = None
        self.when_error = ""
        # The two readings of a repeated wall-clock time, when the person must pick one.
        self.occurrences: tuple[localtime.Occurrence, ...] = ()

    @staticmethod
    def initial_for(instant: datetime | None, tz_name: str) -> dict[str, Any]:
        if instant is None:
            return {}
        local = localtime.to_local(instant, tz_name)
        return {"date": local.date(), "time": local.time().replace(tzinfo=None), "fold": local.fold}

    def _fold_choices(self, occurrences: tuple[localtime.Occurrence, ...]) -> None:
        fold = self.fields["fold"]
        assert isinstance(fold, forms.ChoiceField)
        fold.choices = [(str(o.fold), o.label) for o in occurrences]

    def clean_when(self, *, required: bool, future: bool) -> datetime | None:
        """The UTC instant chosen, or None; errors go on the date/time fields."""
        day: date | None = self.cleaned_data.get("date")
        at: time | None = self.cleaned_data.get("time")
        if day is None or at is None:
            if required:
                for name, value in (("date", day), ("time", at)):
                    if value is None and name not in self.errors:
                        self.add_error(name, "Choose when to publish.")
            return None
        name = self.client.timezone
        try:
            instant = localtime.to_utc(day, at, name, fold=self.cleaned_data.get("fold"))
        except localtime.AmbiguousTime as error:
            self.occurrences = error.occurrences
            self._fold_choices(error.occurrences)
            self.when_error = str(error)
            self.add_error("fold", str(error))
            return None
        except localtime.NonexistentTime as error:
            self.when_error = str(error)
            self.add_error("time", str(error))
            return None
        self.occurrences = localtime.occurrences(day, at, name)
        if len(self.occurrences) > 1:
            self._fold_choices(self.occurrences)
        if future and instant <= timezone.now():
            self.when_error = (
                f"{localtime.describe(instant, name)} has already passed. Choose a later time, "
                "or publish now."
            )
            self.add_error("time", self.when_error)
            return None
        self.scheduled_at = instant
        return instant


class RescheduleForm(WhenFields):
    def clean(self) -> dict[str, Any]:
        super().clean()
        self.clean_when(required=True, future=True)
        return self.cleaned_data
