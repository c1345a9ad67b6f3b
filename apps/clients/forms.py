from __future__ import annotations

from typing import Any

from django import forms

from apps.clients.models import Client
from apps.clients.selectors import account_manager_choices, team_candidates
from apps.common.timezones import timezone_choices, validate_timezone
from apps.staff.models import User


class ClientForm(forms.Form):
    name = forms.CharField(max_length=120)
    timezone = forms.ChoiceField(
        choices=[],
        help_text="Posts for this client are scheduled in this timezone.",
    )
    account_manager = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="— nobody yet —"
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, *args: Any, can_pick_manager: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_choices()  # type: ignore[attr-defined]
        self.fields["account_manager"].queryset = account_manager_choices()  # type: ignore[attr-defined]
        if not can_pick_manager:
            del self.fields["account_manager"]

    def clean_timezone(self) -> str:
        value: str = self.cleaned_data["timezone"]
        validate_timezone(value)
        return value

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the client a name.")
        return name

    @classmethod
    def initial_for(cls, client: Client) -> dict[str, Any]:
        return {
            "name": client.name,
            "timezone": client.timezone,
            "account_manager": client.account_manager_id,
            "notes": client.notes,
        }


class AddMemberForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), empty_label="Choose a person…")

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = team_candidates(client=client)  # type: ignore[attr-defined]
        self.fields["user"].error_messages["invalid_choice"] = (
            "That person cannot be added (already on the team or deactivated)."
        )
