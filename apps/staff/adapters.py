from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class StaffAccountAdapter(DefaultAccountAdapter):
    """No public sign-up: staff join only through an admin's invitation."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
