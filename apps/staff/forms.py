from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)

from apps.common.timezones import timezone_choices
from apps.staff import selectors
from apps.staff.models import Invitation, Role, User


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    name = forms.CharField(label="Name", max_length=150, required=False, help_text="Optional.")
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.STAFF)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if selectors.user_exists_with_email(email):
            raise forms.ValidationError(f"{email} already belongs to a staff member.")
        if selectors.invitation_open_for_email(email) is not None:
            raise forms.ValidationError(
                f"{email} already has an open invitation. Resend or revoke it below."
            )
        return email


class AcceptInvitationForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=150)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=" ".join(password_validators_help_texts()),
    )
    password2 = forms.CharField(
        label="Password (again)",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, invitation: Invitation, **kwargs: Any) -> None:
        self.invitation = invitation
        kwargs.setdefault("initial", {"name": invitation.name})
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Please enter your name.")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1 = cleaned.get("password1")
        password2 = cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords differ.")
        elif password1:
            # Validate against an unsaved user so similarity checks see the name and email.
            candidate = User(email=self.invitation.email, name=cleaned.get("name", ""))
            try:
                validate_password(password1, user=candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class ProfileForm(forms.Form):
    timezone = forms.ChoiceField(
        label="Your timezone",
        required=False,
        choices=[],
        help_text="Calendars offer “My time” in this zone.",
        error_messages={
            "invalid_choice": "“%(value)s” is not a known timezone. Pick one from the list, "
            "e.g. Europe/Berlin."
        },
    )

    def __init__(self, *args: Any, agency_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [  # type: ignore[attr-defined]
            ("", f"Agency default ({agency_zone.replace('_', ' ')})"),
            *timezone_choices(),
        ]
