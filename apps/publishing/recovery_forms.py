"""The post page's question about an unconfirmed target: did you find it on the profile?"""

from __future__ import annotations

from typing import Any

from django import forms

from apps.platforms import links
from apps.platforms.types import Platform

FOUND = "found"
MISSING = "missing"


class ConfirmForm(forms.Form):
    """A person says, after looking at the account's profile, whether the video is there. The
    box must be ticked: the answer is only worth something after a look."""

    checked_profile = forms.BooleanField(
        required=True,
        label="I have looked at the profile",
        error_messages={"required": "Look at the profile first, then tick this box."},
    )
    decision = forms.ChoiceField(
        choices=[(FOUND, "It is there"), (MISSING, "It is not there, publish again")],
        error_messages={"required": "Choose one of the two answers."},
    )
    permalink = forms.CharField(
        required=False,
        max_length=500,
        label="Link to the post (optional)",
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, platform: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.platform = platform
        self.fields[
            "permalink"
        ].help_text = (
            f"Paste it from the post's Share menu, e.g. {links.post_url_example(platform)}"
        )

    def clean_permalink(self) -> str:
        url = self.cleaned_data["permalink"].strip()
        if url and not links.is_post_url(self.platform, url):
            name = Platform(self.platform).label
            raise forms.ValidationError(
                f"That isn't a link to a {name} post. It looks like "
                f"{links.post_url_example(self.platform)}"
            )
        return url

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == MISSING and data.get("permalink"):
            self.add_error(
                "permalink",
                "You pasted a link to the post but said it isn't there: choose “It is there”, "
                "or clear the link.",
            )
        return data
