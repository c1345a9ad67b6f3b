"""Request types for views that only run for signed-in staff (login_required)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from apps.staff.models import User


class AuthedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails
