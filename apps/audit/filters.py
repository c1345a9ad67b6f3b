"""The audit log's filters: what a person asked for, parsed once from the query string.

Dates are days in the current time zone — the agency's (settings.TIME_ZONE), which is also the
zone every page shows times in. There is no per-person zone yet; when one arrives, activating it
per request (django.utils.timezone.activate) moves the display and these day boundaries together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.utils import timezone
from django.utils.text import slugify

from apps.audit.actions import GROUPS_BY_KEY, AuditAction

# Actors that are not people: audit_record's `actor_label` for system work and callbacks.
SYSTEM_ACTORS = {
    "system": "System (scheduled work)",
    "webhook:tiktok": "TikTok callback",
    "webhook:instagram": "Instagram callback",
    "connect-link": "A brand, through a connect link",
}
USER_ACTOR = re.compile(r"^user:(\d{1,18})$")
# Trigrams need three characters; a shorter term could use no index (DESIGN §11: pages stay fast).
MIN_TEXT = 3


@dataclass(frozen=True)
class AuditFilter:
    client_id: int | None = None
    account_id: int | None = None
    actor: str = ""  # "user:<id>" or a key of SYSTEM_ACTORS
    group: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    text: str = ""

    @property
    def actor_user_id(self) -> int | None:
        match = USER_ACTOR.match(self.actor)
        return int(match.group(1)) if match else None

    @property
    def is_empty(self) -> bool:
        return self == AuditFilter()

    def time_range(self) -> tuple[datetime | None, datetime | None]:
        """[start, end) of the date range, as aware datetimes in the current time zone."""
        zone = timezone.get_current_timezone()
        start = datetime.combine(self.date_from, time.min, zone) if self.date_from else None
        end = (
            datetime.combine(self.date_to + timedelta(days=1), time.min, zone)
            if self.date_to
            else None
        )
        return start, end

    def params(self, **changes: Any) -> dict[str, str]:
        """The query-string parameters that give this filter back (empty ones left out)."""
        data = replace(self, **changes) if changes else self
        values = {
            "client": data.client_id,
            "account": data.account_id,
            "actor": data.actor,
            "group": data.group,
            "action": data.action,
            "from": data.date_from.isoformat() if data.date_from else "",
            "to": data.date_to.isoformat() if data.date_to else "",
            "q": data.text,
        }
        return {key: str(value) for key, value in values.items() if value}

    def querystring(self, **changes: Any) -> str:
        return urlencode(self.params(**changes))

    def without_scope(self) -> AuditFilter:
        """The same filter minus the client and account a timeline fixes by its URL."""
        return replace(self, client_id=None, account_id=None)

    def filename(
        self, *, client_slug: str = "", account_label: str = "", newest: int | None = None
    ) -> str:
        """`audit-bluebird-bakery-connections-2026-11-01_2026-11-30.csv` and the like."""
        parts = ["audit", client_slug, slugify(account_label)]
        if self.actor:
            parts.append(slugify(self.actor.replace(":", "-")))
        parts += [self.group, slugify(self.action.replace(".", "-"))]
        if self.text:
            parts.append("search-" + slugify(self.text)[:30])
        if self.date_from or self.date_to:
            start = self.date_from.isoformat() if self.date_from else "start"
            end = self.date_to.isoformat() if self.date_to else "now"
            parts.append(f"{start}_{end}")
        if newest:
            parts.append(f"newest-{newest}")
        name = "-".join(part for part in parts if part)
        return (name if name != "audit" else "audit-all")[:150] + ".csv"


class AuditFilterForm(forms.Form):
    """Parses and checks the query string; the page's selects are drawn by the template."""

    client = forms.IntegerField(required=False, min_value=1)
    account = forms.IntegerField(required=False, min_value=1)
    actor = forms.CharField(required=False, max_length=40)
    group = forms.ChoiceField(required=False, choices=[])
    action = forms.ChoiceField(required=False, choices=[])
    date_from = forms.DateField(required=False)
    date_to = forms.DateField(required=False)
    q = forms.CharField(required=False, max_length=100, strip=True)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        if data is not None:
            # The page's inputs are named "from" and "to" (short links, readable file names).
            data = {
                **{key: data.get(key, "") for key in ("client", "account", "actor", "group")},
                **{key: data.get(key, "") for key in ("action", "q")},
                "date_from": data.get("from", ""),
                "date_to": data.get("to", ""),
            }
        super().__init__(data, **kwargs)
        self.fields["group"].choices = [("", ""), *((k, k) for k in GROUPS_BY_KEY)]  # type: ignore[attr-defined]
        self.fields["action"].choices = [("", ""), *((v, v) for v in AuditAction.values)]  # type: ignore[attr-defined]

    def clean_actor(self) -> str:
        actor: str = self.cleaned_data["actor"]
        if actor and actor not in SYSTEM_ACTORS and not USER_ACTOR.match(actor):
            raise forms.ValidationError("Pick someone from the list.")
        return actor

    def clean_q(self) -> str:
        text: str = self.cleaned_data["q"]
        if text and len(text) < MIN_TEXT:
            raise forms.ValidationError(f"Type at least {MIN_TEXT} characters to search.")
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def audit_filter(self) -> AuditFilter:
        """The valid part of what was asked (an invalid field is ignored, its error shown)."""
        data = self.cleaned_data if self.is_bound else {}
        return AuditFilter(
            client_id=data.get("client"),
            account_id=data.get("account"),
            actor=data.get("actor") or "",
            group=data.get("group") or "",
            action=data.get("action") or "",
            date_from=data.get("date_from"),
            date_to=None if self.errors.get("date_to") else data.get("date_to"),
            text=data.get("q") or "",
        )
