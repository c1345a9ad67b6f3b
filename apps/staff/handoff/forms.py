"""The wizard's forms: pick the people, choose the clients, carry the confirmed plan."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core import signing

from apps.staff.handoff.selectors import Holdings, Snapshot, handoff_people, handoff_receivers
from apps.staff.models import User

PLAN_SALT = "switchboard.handoff.plan"
# A confirm page older than this is drawn again before anything moves.
PLAN_MAX_AGE_SECONDS = 60 * 60


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        label = f"{obj.name or obj.email} · {obj.get_role_display()}"
        return label if obj.is_active else f"{label} (deactivated)"


class PeopleForm(forms.Form):
    departing = PersonChoiceField(
        label="Hand over from",
        queryset=User.objects.none(),
        empty_label="Choose a person",
        help_text="The person leaving or changing roles. Deactivated people are listed too.",
    )
    receiving = PersonChoiceField(
        label="To",
        queryset=User.objects.none(),
        empty_label="Choose a person",
        help_text="Active staff only.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["departing"].queryset = handoff_people()  # type: ignore[attr-defined]
        self.fields["receiving"].queryset = handoff_receivers()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        departing, receiving = cleaned.get("departing"), cleaned.get("receiving")
        if departing and receiving and departing.pk == receiving.pk:
            self.add_error("receiving", "Pick someone other than the person handing over.")
        return cleaned


class ClientsForm(forms.Form):
    """Which of the departing person's clients move, and whether they are deactivated."""

    client = forms.TypedMultipleChoiceField(
        label="Clients to hand over",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    deactivate = forms.BooleanField(
        label="Deactivate them and end all their sessions",
        required=False,
    )

    def __init__(self, *args: Any, holdings: Holdings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holdings = holdings
        self.fields["client"].choices = [(h.client.pk, h.client.name) for h in holdings.clients]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("client") and not cleaned.get("deactivate"):
            raise forms.ValidationError(
                "Choose at least one client, or deactivate them without handing anything over."
            )
        return cleaned


@dataclass(frozen=True)
class Plan:
    """What the admin confirmed: who, which clients, and what the confirm page showed."""

    departing_id: int
    receiving_id: int
    client_ids: tuple[int, ...]
    deactivate: bool
    seen: Snapshot
    # One per confirm page drawn: the handoff runs once for it, however often it is submitted.
    plan_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def sign(self) -> str:
        return signing.dumps(
            {
                "i": self.plan_id,
                "d": self.departing_id,
                "r": self.receiving_id,
                "c": list(self.client_ids),
                "x": self.deactivate,
                "s": self.seen.as_dict(),
            },
            salt=PLAN_SALT,
            compress=True,
        )

    @classmethod
    def unsign(cls, value: str) -> Plan:
        data = signing.loads(value, salt=PLAN_SALT, max_age=PLAN_MAX_AGE_SECONDS)
        return cls(
            plan_id=str(data["i"]),
            departing_id=int(data["d"]),
            receiving_id=int(data["r"]),
            client_ids=tuple(int(i) for i in data["c"]),
            deactivate=bool(data["x"]),
            seen=Snapshot.from_dict(data["s"]),
        )

    def query(self) -> dict[str, Any]:
        """The confirm page's query string for this plan (to draw it again)."""
        query: dict[str, Any] = {
            "departing": self.departing_id,
            "receiving": self.receiving_id,
            "client": list(self.client_ids),
        }
        if self.deactivate:
            query["deactivate"] = "on"
        return query


class PlanForm(forms.Form):
    plan = forms.CharField(widget=forms.HiddenInput)

    def clean_plan(self) -> Plan:
        try:
            return Plan.unsign(self.cleaned_data["plan"])
        except signing.SignatureExpired:
            raise forms.ValidationError(
                "This confirmation page is over an hour old. Review the handoff again.",
                code="expired",
            ) from None
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise forms.ValidationError("This handoff could not be read.", code="bad") from None
