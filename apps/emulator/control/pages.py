"""The human control page `/_emulator/control/` and its form posts (CSRF-protected)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.emulator import actions, clock, state
from apps.emulator.control import serialize
from apps.emulator.control.services import ControlError, config_update, fault_add
from apps.emulator.faults import ENDPOINTS, presets_for
from apps.emulator.models import (
    FaultRule,
    InstagramContainer,
    LedgerEntry,
    Platform,
    SandboxAccount,
    SandboxToken,
    TikTokPublish,
    WebhookDelivery,
)
from apps.emulator.tiktok.posting import settle_all

TIKTOK_ACTIONS = ["remove_app", "change_password", "checkpoint", "clear_checkpoint",
                  "ban_posting", "unban_posting", "exhaust_quota", "reset_quota",
                  "make_private", "make_public"]  # fmt: skip
INSTAGRAM_ACTIONS = ["remove_app", "request_data_deletion", "change_password", "checkpoint",
                     "clear_checkpoint", "ban_posting", "unban_posting", "exhaust_quota",
                     "reset_quota", "make_personal", "make_business", "make_creator"]  # fmt: skip
# JSON list settings: one comma-separated text box each on the page.
LIST_CONFIG_FIELDS = [
    "tiktok_verified_url_prefixes",
    "tiktok_registered_redirect_uris",
    "instagram_registered_redirect_uris",
]
PAGE_CONFIG_FIELDS = [f for f in serialize.CONFIG_FIELDS if f not in LIST_CONFIG_FIELDS]


def _back() -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("emulator:control:page"))


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    settle_all()
    config = state.get_config()
    accounts = list(SandboxAccount.objects.all())
    for account in accounts:
        account.actions = (  # type: ignore[attr-defined]
            TIKTOK_ACTIONS if account.platform == Platform.TIKTOK else INSTAGRAM_ACTIONS
        )
    config_rows = [
        {"name": name, "value": getattr(config, name),
         "is_bool": isinstance(getattr(config, name), bool)}
        for name in PAGE_CONFIG_FIELDS
    ]  # fmt: skip
    list_rows = [
        {"name": name, "value": ", ".join(getattr(config, name))} for name in LIST_CONFIG_FIELDS
    ]
    effective = serialize.config(config)
    context = {
        "now": clock.now(),
        "config": config,
        "config_rows": config_rows,
        "list_rows": list_rows,
        "targets": effective["effective_targets"],
        "redirect_uris": effective["effective_redirect_uris"],
        "accounts": accounts,
        "tokens": [serialize.token(t) for t in SandboxToken.objects.select_related("account")[:50]],
        "faults": FaultRule.objects.all(),
        "endpoints": list(ENDPOINTS),
        "presets": sorted({p for e in ENDPOINTS for p in presets_for(e)}),
        "publishes": TikTokPublish.objects.select_related("account")[:30],
        "containers": [
            serialize.container(c)
            for c in InstagramContainer.objects.select_related("account")[:30]
        ],
        "ledger": LedgerEntry.objects.select_related("account")[:100],
        "deliveries": WebhookDelivery.objects.all()[:30],
    }
    return render(request, "emulator/control.html", context)


@require_POST
def account_action(request: HttpRequest, key: str, action: str) -> HttpResponse:
    account = get_object_or_404(SandboxAccount, key=key)
    try:
        reason = int(request.POST.get("reason", "1") or 1)
        result = actions.perform(account, action, reason=reason)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        delivery = result.get("delivery")
        note = f" (callback: {delivery})" if delivery else ""
        messages.success(request, f"{action} done for @{account.username}{note}")
    return _back()


@require_POST
def add_fault(request: HttpRequest) -> HttpResponse:
    try:
        rule = fault_add(request.POST.dict())
    except ControlError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Fault added on {rule.endpoint}")
    return _back()


@require_POST
def clear_faults(request: HttpRequest) -> HttpResponse:
    pk = request.POST.get("id")
    rules = FaultRule.objects.filter(pk=pk) if pk else FaultRule.objects.all()
    rules.delete()
    messages.success(request, "Fault cleared" if pk else "All faults cleared")
    return _back()


@require_POST
def advance_clock(request: HttpRequest) -> HttpResponse:
    try:
        seconds = float(request.POST.get("seconds", "0") or 0)
        seconds += 3600 * float(request.POST.get("hours", "0") or 0)
        clock.advance(seconds)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Clock advanced by {seconds:g} s")
    return _back()


@require_POST
def update_config(request: HttpRequest) -> HttpResponse:
    data = {name: request.POST.get(name, "") for name in PAGE_CONFIG_FIELDS}
    for name in PAGE_CONFIG_FIELDS:
        if isinstance(getattr(state.get_config(), name), bool):
            data[name] = "1" if request.POST.get(name) else "0"
    for name in LIST_CONFIG_FIELDS:
        data[name] = request.POST.get(name, "")
    try:
        config_update(data)
    except ControlError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Settings saved")
    return _back()


@require_POST
def reset(request: HttpRequest) -> HttpResponse:
    state.reset()
    messages.success(request, "Sandbox reset")
    return _back()
