"""/_emulator/control/: the human page and the JSON API (api/…)."""

from __future__ import annotations

from django.urls import URLPattern, path

from apps.emulator.control import api, pages

patterns: list[URLPattern] = [
    path("", pages.page, name="page"),
    path("accounts/<slug:key>/<str:action>/", pages.account_action, name="account_action"),
    path("faults/add/", pages.add_fault, name="add_fault"),
    path("faults/clear/", pages.clear_faults, name="clear_faults"),
    path("clock/advance/", pages.advance_clock, name="advance_clock"),
    path("config/", pages.update_config, name="config"),
    path("reset/", pages.reset, name="reset"),
    # JSON API
    path("api/state", api.overview, name="api_state"),
    path("api/reset", api.reset, name="api_reset"),
    path("api/accounts", api.accounts, name="api_accounts"),
    path("api/accounts/<slug:key>", api.account_detail, name="api_account"),
    path("api/accounts/<slug:key>/<str:action>", api.account_action, name="api_account_action"),
    path("api/authorize", api.authorize, name="api_authorize"),
    path("api/faults", api.faults, name="api_faults"),
    path("api/faults/<int:pk>", api.fault_detail, name="api_fault"),
    path("api/clock", api.clock_view, name="api_clock"),
    path("api/config", api.config, name="api_config"),
    path("api/ledger", api.ledger, name="api_ledger"),
    path("api/tokens", api.tokens_list, name="api_tokens"),
    path("api/webhooks", api.webhooks, name="api_webhooks"),
]
