from __future__ import annotations

from django import forms

from apps.connections.models import Platform


class ConnectLinkForm(forms.Form):
    platform = forms.ChoiceField(choices=Platform.choices)
    email = forms.EmailField(
        required=False, help_text="We email the link when you give an address."
    )
    days = forms.IntegerField(min_value=1, max_value=30, initial=7, label="Valid for (days)")
