from __future__ import annotations

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import (
    AUTHENTICATION_METHODS_SESSION_KEY,
    get_authentication_records,
)
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest


class StaffAccountAdapter(DefaultAccountAdapter):
    """No public sign-up: staff join only through an admin's invitation."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def login(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        """Sign in, and let the sign-in count as a recent authentication.

        allauth logs each authentication step of the session (password, then TOTP) with its
        time, but its reauthentication check only accepts records flagged `reauthenticated`, which
        only its reauthenticate pages write. So a connect or disconnect seconds after signing in
        asked for the password again. Flagging this sign-in's own steps keeps their times:
        ACCOUNT_REAUTHENTICATION_TIMEOUT still runs from when the password (or code) was checked.
        """
        super().login(request, user)
        records = get_authentication_records(request, user)
        if not records:  # signed in without typing anything here (e.g. a session handed over)
            return
        request.session[AUTHENTICATION_METHODS_SESSION_KEY] = [
            {**record, "reauthenticated": True}
            if record.get("method") in account_settings.REAUTHENTICATION_METHODS
            else record
            for record in records
        ]
