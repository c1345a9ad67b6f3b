"""Connection pages and endpoints: connect/reconnect, OAuth callbacks, the account page and its
actions and connect links (webhooks: webhook_views.py)."""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.clients import access
from apps.connections import selectors
from apps.connections.access import can_send_connect_links, get_account_for_view
from apps.connections.forms import ConnectLinkForm
from apps.connections.lifecycle import warnings_for
from apps.connections.models import AuthorizationRequest, ConnectLink, Platform, State
from apps.connections.outcomes import Outcome
from apps.connections.services import disconnect, health, links, oauth, refresh
from apps.staff.types import AuthedRequest


def _platform_or_404(platform: str) -> str:
    if platform not in Platform.values:
        raise Http404("Unknown platform.")
    return platform


def _require_recent_reauthentication(request: HttpRequest) -> None:
    """allauth's reauthentication check, run *after* the view's access check.

    As a decorator it would run first, so someone who may not see the object would be sent to the
    reauthentication page instead of getting the 404 every other view gives (DESIGN §1). Raises
    allauth's ReauthenticationRequired; its middleware suspends this POST and resumes it after.
    """
    reauthentication_required(lambda _request: HttpResponse())(request)


def _session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""


# --- Connect and reconnect (staff) ---------------------------------------------------------------


@login_required
@require_POST
def connect_start(request: AuthedRequest, slug: str, platform: str) -> HttpResponse:
    client = access.get_client_for_view(request.user, slug)
    platform = _platform_or_404(platform)
    _require_recent_reauthentication(request)
    if client.is_archived:
        messages.error(request, f"{client.name} is archived; unarchive it to connect accounts.")
        return redirect("clients:detail", slug=client.slug)
    url = oauth.oauth_start(
        client=client,
        platform=platform,
        user=request.user,
        session_key=_session_key(request),
        next_path=request.POST.get("next", ""),
    )
    return redirect(url)


@login_required
@require_POST
def reconnect_start(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_account_for_view(request.user, pk)
    _require_recent_reauthentication(request)
    if account.state in (State.DISCONNECTED, State.DISCONNECT_PENDING):
        messages.error(
            request, "A disconnected account can't be reconnected; connect it again instead."
        )
        return redirect("connections:account", pk=account.pk)
    url = oauth.oauth_start(
        client=account.client,
        platform=account.platform,
        user=request.user,
        session_key=_session_key(request),
        reconnect_of=account,
        next_path=f"/connections/{account.pk}/",
    )
    return redirect(url)


@require_GET
def oauth_callback(request: HttpRequest, platform: str) -> HttpResponse:
    """The fixed redirect URI of one platform. Works for staff sessions and connect links.

    It handles the reply once, then redirects to a page that reads the stored outcome
    (post/redirect/get): reloading that page shows the same result, while this URL, replayed,
    refuses the consumed state.
    """
    params = {
        k: request.GET.get(k, "")[:2000]
        for k in ("state", "code", "error", "error_reason", "error_description", "scopes")
    }
    session_key = request.session.session_key or ""
    try:
        result = oauth.oauth_complete(platform=platform, params=params, session_key=session_key)
    except oauth.OAuthRefused as refused:
        if refused.auth_request is not None:
            return _result_redirect(refused.auth_request)
        return render(
            request,
            "connections/oauth_error.html",
            {"title": refused.title, "message": refused.message, "platform": platform},
            status=400,
        )
    auth_request = result.auth_request
    if auth_request.connect_link_id is not None:
        return _result_redirect(auth_request)
    if result.outcome == AuthorizationRequest.Outcome.MISMATCH:
        return redirect("connections:mismatch", request_id=auth_request.pk)
    messages.success(request, result.message)
    if result.account is not None and result.account.publish_capability == "missing_scope":
        messages.warning(request, result.account.capability_reason)
    if auth_request.next_path:
        return redirect(auth_request.next_path)
    return (
        redirect("connections:account", pk=result.account.pk) if result.account else redirect("/")
    )


def _result_redirect(auth_request: AuthorizationRequest) -> HttpResponse:
    view = "link_result" if auth_request.connect_link_id is not None else "oauth_result"
    return redirect(f"connections:{view}", key=oauth.result_key(auth_request))


_SUCCESSES = (AuthorizationRequest.Outcome.CONNECTED, AuthorizationRequest.Outcome.RECONNECTED)


@login_required
@require_GET
def oauth_result(request: AuthedRequest, key: str) -> HttpResponse:
    """What became of a staff connect that didn't succeed; only its initiator may read it."""
    auth_request = oauth.result_request(key, via_link=False)
    if auth_request is None or auth_request.initiated_by_id != request.user.pk:
        raise Http404("No such result.")
    client = access.get_client_for_view(request.user, auth_request.client.slug)
    if auth_request.outcome in _SUCCESSES and auth_request.result_account_id:
        return redirect("connections:account", pk=auth_request.result_account_id)
    if auth_request.outcome == AuthorizationRequest.Outcome.MISMATCH:
        return redirect("connections:mismatch", request_id=auth_request.pk)
    title, message = oauth.outcome_text(auth_request)
    return render(
        request,
        "connections/oauth_result.html",
        {
            "title": title,
            "message": message,
            "client": client,
            "platform": auth_request.get_platform_display(),
            "account": auth_request.reconnect_of,
        },
    )


def _mismatch_request(request: HttpRequest, request_id: int) -> AuthorizationRequest:
    auth_request = get_object_or_404(
        AuthorizationRequest.objects.select_related("client", "reconnect_of"),
        pk=request_id,
        initiated_by=request.user,
        reconnect_of__isnull=False,
    )
    if not auth_request.pending_identity:
        raise Http404("No such decision.")
    access.get_client_for_view(request.user, auth_request.client.slug)
    return auth_request


@login_required
def mismatch(request: AuthedRequest, request_id: int) -> HttpResponse:
    auth_request = _mismatch_request(request, request_id)
    if request.method == "POST":
        try:
            if request.POST.get("decision") == "link":
                result = oauth.oauth_confirm_mismatch(request_id=auth_request.pk, user=request.user)
                messages.success(request, f"{result.account.label} was added as a new account.")  # type: ignore[union-attr]
                return redirect("connections:account", pk=result.account.pk)  # type: ignore[union-attr]
            oauth.oauth_cancel_mismatch(request_id=auth_request.pk, user=request.user)
        except oauth.OAuthRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.info(
                request, "Nothing was changed. Reconnect again and pick the right account."
            )
        return redirect("connections:account", pk=auth_request.reconnect_of_id)
    return render(
        request,
        "connections/mismatch.html",
        {
            "auth_request": auth_request,
            "expected": auth_request.reconnect_of,
            "received": auth_request.pending_identity,
            "decided": not auth_request.pending_credential,
        },
    )


# --- The account page and its actions -------------------------------------------------------------


@login_required
def account_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_account_for_view(request.user, pk)
    credential = getattr(account, "credential", None)
    context = {
        "account": account,
        "client": account.client,
        "credential": credential,
        "warnings": warnings_for(account),
        "history": selectors.account_history(account=account),
        "attempts": selectors.account_attempts(account=account),
        "can_link": can_send_connect_links(request.user, account.client),
    }
    return render(request, "connections/account.html", context)


def _report_outcome(
    request: AuthedRequest,
    account: Any,
    outcome: Outcome,
    *,
    success: str,
    failure: str,
    verb: str,
) -> HttpResponse:
    """Turn a service's outcome into one message, then back to the account page."""
    account.refresh_from_db()
    if outcome.ok:
        messages.success(request, success)
    elif outcome.skipped:
        messages.info(request, f"Not {verb}: {outcome.detail}.")
    else:
        messages.error(request, f"{failure}: {account.last_error_message or outcome.detail}")
    return redirect("connections:account", pk=account.pk)


@login_required
@require_POST
def account_check_now(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_account_for_view(request.user, pk)
    outcome = health.account_check(account_id=account.pk, actor=request.user)
    return _report_outcome(
        request,
        account,
        outcome,
        verb="checked",
        failure="The check failed",
        success="Checked just now: the platform accepts the connection.",
    )


@login_required
@require_POST
def account_refresh_now(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_account_for_view(request.user, pk)
    outcome = refresh.account_refresh(account_id=account.pk, force=True)
    return _report_outcome(
        request,
        account,
        outcome,
        verb="refreshed",
        failure="Refresh failed",
        success="The token was refreshed.",
    )


@login_required
@require_POST
def account_disconnect(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_account_for_view(request.user, pk)
    _require_recent_reauthentication(request)
    disconnect.account_disconnect(account=account, actor=request.user)
    messages.success(
        request,
        f"{account.label} is being disconnected: "
        "our tokens are deleted once the platform confirms.",
    )
    return redirect("connections:account", pk=account.pk)


# --- Connect links -----------------------------------------------------------------------------


@login_required
@require_POST
def link_create(request: AuthedRequest, slug: str) -> HttpResponse:
    client = access.get_client_for_view(request.user, slug)
    if not can_send_connect_links(request.user, client):
        raise Http404
    _require_recent_reauthentication(request)
    form = ConnectLinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("clients:detail", slug=client.slug)
    link, url = links.connect_link_create(
        client=client,
        platform=form.cleaned_data["platform"],
        actor=request.user,
        email=form.cleaned_data["email"],
        days=form.cleaned_data["days"],
    )
    request.session["connect_link_url"] = {"id": link.pk, "url": url}
    sent = f" and emailed to {link.sent_to}" if link.sent_to else ""
    messages.success(
        request, f"Connect link created{sent}. It works once, until {link.expires_at:%d %b %Y}."
    )
    return redirect("clients:detail", slug=client.slug)


@login_required
@require_POST
def link_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    link = get_object_or_404(ConnectLink.objects.select_related("client"), pk=pk)
    if not access.can_view_client(request.user, link.client) or not can_send_connect_links(
        request.user, link.client
    ):
        raise Http404
    links.connect_link_revoke(link=link, actor=request.user)
    messages.success(request, "The connect link was revoked.")
    return redirect("clients:detail", slug=link.client.slug)


def link_landing(request: HttpRequest, signed: str) -> HttpResponse:
    """The brand's page: only the client's name and the platform (DESIGN §5)."""
    link = links.link_from_signed(signed)
    if link is None:
        return render(request, "connections/link_invalid.html", {"reason": "unknown"}, status=404)
    if not link.is_open:
        return render(request, "connections/link_invalid.html", {"reason": link.status}, status=410)
    if request.method == "POST":
        url = oauth.oauth_start(client=link.client, platform=link.platform, connect_link=link)
        return redirect(url)
    return render(
        request,
        "connections/link_landing.html",
        {"client_name": link.client.name, "platform": link.get_platform_display()},
    )


@require_GET
def link_result(request: HttpRequest, key: str) -> HttpResponse:
    """The brand's result page after the callback: only the client's name, the platform and
    the outcome (DESIGN §5). The signed key is the credential, as the link's own token is."""
    auth_request = oauth.result_request(key, via_link=True)
    if auth_request is None:
        return render(request, "connections/link_invalid.html", {"reason": "unknown"}, status=404)
    connected = auth_request.outcome in _SUCCESSES
    title, message = ("", "") if connected else oauth.outcome_text(auth_request)
    return render(
        request,
        "connections/link_done.html",
        {
            "connected": connected,
            "title": title,
            "message": message,
            "client_name": auth_request.client.name,
            "platform": auth_request.get_platform_display(),
        },
    )


# --- Dashboard fragment ------------------------------------------------------------------------


@login_required
def health_fragment(request: AuthedRequest) -> HttpResponse:
    context: dict[str, Any] = {
        "health": selectors.health_counts(user=request.user),
        "attention": selectors.needs_attention(user=request.user),
    }
    return render(request, "connections/health_panel.html", context)
