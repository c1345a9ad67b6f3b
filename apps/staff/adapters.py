from __future__ import annotations

from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import (
    AUTHENTICATION_METHODS_SESSION_KEY,
    get_authentication_records,
)
from allauth.core import ratelimit
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from apps.staff.ratelimits import LOGIN_FAILED_PER_ADDRESS, wait_seconds, wait_text


class StaffAccountAdapter(DefaultAccountAdapter):
    """No public sign-up: staff join only through an admin's invitation."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        # Also shown by allauth for codes (TOTP) tried too often, without a placeholder.
        "too_many_login_attempts": "Too many failed attempts. Wait a few minutes and try again.",
        "too_many_failed_sign_ins_for_account": (
            "Too many failed sign-ins for this account. Try again in %s."
        ),
        "too_many_failed_sign_ins_from_address": (
            "Too many failed sign-ins from your network. Try again in %s."
        ),
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Refuse a sign-in while its account or its address has used up its failures.

        allauth's login_failed limit takes a slot before the password is checked and gives it
        back only after a success, so each sign-in still in flight holds one. Per account that
        is right: parallel guesses cannot overshoot. Per address it refused the right passwords
        of an office signing in at once (more in flight than the budget), so the address budget
        (LOGIN_FAILED_PER_ADDRESS) is only looked at here and counted in authentication_failed.
        """
        if not ratelimit.consume(request, action=LOGIN_FAILED_PER_ADDRESS, dry_run=True):
            raise self.validation_error(
                "too_many_failed_sign_ins_from_address",
                wait_text(wait_seconds(LOGIN_FAILED_PER_ADDRESS)),
            )
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as refused:
            if refused.code != "too_many_login_attempts":
                raise
            raise self.validation_error(
                "too_many_failed_sign_ins_for_account", wait_text(wait_seconds("login_failed"))
            ) from None

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        ratelimit.consume(request, action=LOGIN_FAILED_PER_ADDRESS)

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
