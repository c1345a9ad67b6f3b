"""Writes behind the control API and page: validate loosely-typed input, then change state."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from apps.emulator.common import redirect_uri_problem
from apps.emulator.control.serialize import ACCOUNT_TRAITS, CONFIG_FIELDS
from apps.emulator.faults import ENDPOINTS, presets_for
from apps.emulator.grants import TIKTOK_MAX_REDIRECT_URIS, own_redirect_uri
from apps.emulator.models import FaultRule, Platform, SandboxAccount, SandboxConfig
from apps.emulator.state import create_account, get_config

BOOL_TRUE = {True, "1", "true", "on", "yes"}
REDIRECT_URI_FIELDS = {
    "tiktok_registered_redirect_uris": Platform.TIKTOK,
    "instagram_registered_redirect_uris": Platform.INSTAGRAM,
}


class ControlError(ValueError):
    """Bad control input; the message is safe to show."""


def _coerce(model_field: Any, value: Any) -> Any:
    internal = model_field.get_internal_type()
    if internal == "BooleanField":
        return value in BOOL_TRUE
    if internal in {"PositiveIntegerField", "IntegerField"}:
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise ControlError(f"{model_field.name} must be an integer") from exc
        if number < 0:
            raise ControlError(f"{model_field.name} must not be negative")
        return number
    if internal == "JSONField":
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value
    return "" if value is None else str(value)


def _apply(obj: Any, data: dict[str, Any], allowed: list[str]) -> list[str]:
    changed = []
    for name, value in data.items():
        if name not in allowed:
            raise ControlError(f"unknown field {name!r}")
        setattr(obj, name, _coerce(obj._meta.get_field(name), value))
        changed.append(name)
    obj.full_clean()
    return changed


@transaction.atomic
def config_update(data: dict[str, Any]) -> SandboxConfig:
    config = get_config()
    if data.get("instagram_token_shape") not in {None, "data", "flat"}:
        raise ControlError("instagram_token_shape must be 'data' or 'flat'")
    signing = data.get("instagram_signing_secret")
    if signing not in {None, "instagram", "meta"}:
        raise ControlError("instagram_signing_secret must be 'instagram' or 'meta'")
    if signing == "meta" and not settings.META_APP_SECRET:
        raise ControlError("instagram_signing_secret 'meta' needs META_APP_SECRET to be set")
    try:
        changed = _apply(config, data, CONFIG_FIELDS)
    except ControlError:
        raise
    except Exception as exc:  # full_clean's ValidationError
        raise ControlError(str(exc)) from exc
    for name in REDIRECT_URI_FIELDS.keys() & set(changed):
        _check_redirect_uris(name, getattr(config, name))
    config.save(update_fields=changed or None)
    return config


def _check_redirect_uris(name: str, uris: Any) -> None:
    """Registering a URI follows the platform's own rules for redirect URIs (PLATFORMS §1.2,
    §2.2): absolute https (http for localhost), no fragment, no query on TikTok, ≤10 on TikTok."""
    platform = REDIRECT_URI_FIELDS[name]
    if not isinstance(uris, list) or not all(isinstance(uri, str) for uri in uris):
        raise ControlError(f"{name} must be a list of URLs")
    for uri in uris:
        problem = redirect_uri_problem(uri, allow_query=platform != Platform.TIKTOK)
        if problem:
            raise ControlError(f"{name}: {uri!r}: {problem}")
    registered = {own_redirect_uri(platform), *uris}
    if platform == Platform.TIKTOK and len(registered) > TIKTOK_MAX_REDIRECT_URIS:
        raise ControlError(f"{name}: TikTok registers at most {TIKTOK_MAX_REDIRECT_URIS} URIs")


@transaction.atomic
def account_update(account: SandboxAccount, data: dict[str, Any]) -> SandboxAccount:
    try:
        changed = _apply(account, data, ACCOUNT_TRAITS)
    except ControlError:
        raise
    except Exception as exc:
        raise ControlError(str(exc)) from exc
    account.save(update_fields=changed or None)
    return account


def account_add(data: dict[str, Any]) -> SandboxAccount:
    platform = data.get("platform")
    key = str(data.get("key", ""))
    if platform not in Platform.values or not key or not data.get("username"):
        raise ControlError("platform (tiktok|instagram), key and username are required")
    if SandboxAccount.objects.filter(key=key).exists():
        raise ControlError(f"an account with key {key!r} exists")
    traits = {k: v for k, v in data.items() if k not in {"platform", "key"}}
    traits.setdefault("display_name", traits["username"])
    probe = SandboxAccount(platform=platform, key=key)
    try:
        _apply(probe, traits, ACCOUNT_TRAITS)
    except ControlError:
        raise
    except Exception as exc:
        raise ControlError(str(exc)) from exc
    fields = {k: getattr(probe, k) for k in traits}
    return create_account(platform=platform, key=key, **fields)


def fault_add(data: dict[str, Any]) -> FaultRule:
    endpoint = str(data.get("endpoint", ""))
    if endpoint != "*" and endpoint not in ENDPOINTS:
        raise ControlError(f"unknown endpoint {endpoint!r}; see GET control/api/faults")
    error = str(data.get("error") or "")
    if error and endpoint != "*" and error not in presets_for(endpoint):
        raise ControlError(f"unknown error {error!r} for {endpoint}: {presets_for(endpoint)}")
    try:
        rate = float(data.get("rate", 1.0))
        latency = int(data.get("latency_ms") or 0)
        status = int(data["http_status"]) if data.get("http_status") not in {None, ""} else None
        remaining = int(data["times"]) if data.get("times") not in {None, ""} else None
    except (TypeError, ValueError) as exc:
        raise ControlError("rate, latency_ms, http_status and times must be numbers") from exc
    if not 0.0 <= rate <= 1.0 or latency < 0:
        raise ControlError("rate must be within 0..1 and latency_ms ≥ 0")
    body = data.get("body")
    if body is not None and not isinstance(body, dict | list):
        raise ControlError("body must be a JSON object or array")
    return FaultRule.objects.create(
        endpoint=endpoint,
        error=error,
        http_status=status,
        body=body,
        rate=rate,
        latency_ms=latency,
        lost_response=data.get("lost_response") in BOOL_TRUE,
        remaining=remaining,
    )
