"""The composer (DESIGN §11): compose and edit a cross-post, its live preflight fragment, and
reschedule / cancel.

Thin views (STYLE rule 1): access check → platform answers (outside any transaction) → form →
one service call → redirect or render. TikTok's creator info is asked for when the page is shown
(PLATFORMS §1.11 rule 1) and again when the post is scheduled; live preflight reuses what the page
showed (`apps.publishing.accounts.seal_checks`).
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template import Template, TemplateDoesNotExist
from django.template.loader import get_template
from django.views.decorators.http import require_http_methods, require_POST

from apps.clients.access import get_client_for_view
from apps.clients.models import Client
from apps.common.forms import apply_validation_error
from apps.platforms.tiktok import rules as tiktok_rules
from apps.platforms.types import Platform
from apps.publishing import direct_post, localtime, services
from apps.publishing.access import get_crosspost_for_view
from apps.publishing.accounts import (
    AccountCheck,
    account_label,
    check_accounts,
    composer_accounts,
    open_checks,
    seal_checks,
)
from apps.publishing.composer_forms import (
    DRAFT,
    NOW,
    PREVIEW,
    SCHEDULE,
    SUBMIT_ACTIONS,
    ComposerForm,
)
from apps.publishing.composition import (
    ChangeRefused,
    PostContent,
    PreflightRefused,
    TargetPlan,
    editable,
    post_findings,
)
from apps.publishing.models import CrossPost
from apps.publishing.preflight import Finding
from apps.publishing.when_forms import RescheduleForm
from apps.staff.types import AuthedRequest

COMPOSER = "publishing/compose.html"
# The media work's upload widget; until it exists the composer offers the <select> alone.
UPLOAD_WIDGET = "publishing/_upload.html"
# TikTok serves creator avatars from its CDN (PLATFORMS §1.6(a): creator_avatar_url, 2 h TTL).
TIKTOK_AVATAR_HOSTS = ["https://*.tiktokcdn.com", "https://*.tiktokcdn-us.com"]
AFTER_PUBLISH_NOTE = (
    "After it publishes, the platforms can take a few minutes to process the video before it "
    "appears on the profile; the post page shows its status."
)


def _upload_widget() -> Template | None:
    try:
        return get_template(UPLOAD_WIDGET)  # type: ignore[return-value]
    except TemplateDoesNotExist:
        return None


def _checks_for(request: AuthedRequest, client: Client, accounts: list[Any], *, fresh: bool):
    """Platform answers for the page: those the page sealed, asked again for the accounts
    ticked when the post is about to be queued."""
    known = open_checks(request.POST.get("account_checks", ""), client=client)
    chosen = {int(v) for v in request.POST.getlist("accounts") if v.isdigit()}
    return check_accounts(accounts, known=known, fresh=chosen if fresh else ())


def _context(
    *,
    client: Client,
    post: CrossPost | None,
    form: ComposerForm,
    checks: dict[int, AccountCheck],
    findings: list[Finding],
) -> dict[str, Any]:
    content = form.content()
    sections = form.sections()
    return {
        "client": client,
        "post": post,
        "form": form,
        "sections": sections,
        "tiktok_sections": [s for s in sections if s.account.platform == "tiktok"],
        "sealed_checks": seal_checks(client=client, checks=checks),
        "findings": findings,
        "groups": _grouped(findings),
        "summary": _summary(findings),
        "content": content,
        "when": localtime.describe(form.scheduled_at, client.timezone) if form.scheduled_at else "",
        "upload_widget": _upload_widget(),
        "previews": [_preview(plan, content) for plan in content.targets],
        "tiktok": tiktok_rules,
        "branded": any(s.checked and s.branded for s in sections),
    }


def _summary(findings: list[Finding]) -> str:
    """One sentence for screen readers each time the checks change."""
    errors = sum(1 for f in findings if f.blocks)
    warnings = len(findings) - errors
    if not findings:
        return "Checks: no problems found."
    return (
        f"Checks: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}."
    )


def _preview(plan: TargetPlan, content: PostContent) -> dict[str, str]:
    """What one account will show (PLATFORMS §1.11 rule 5: the caption before confirming)."""
    options = plan.options
    privacy = options.get(direct_post.PRIVACY_LEVEL) or ""
    return {
        "label": account_label(plan.account),
        "platform": plan.account.platform,
        "caption": content.caption_for(plan.account.platform),
        "audience": direct_post.privacy_label(privacy) if privacy else "",
        "disclosure": direct_post.disclosure_label(options),
    }


PLATFORM_NAMES = {"": "The video", **dict(Platform.choices)}


def _grouped(findings: list[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings by platform ("" = the post as a whole first), errors before warnings."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.platform, []).append(finding)
    known = ["", *Platform.values]
    order = sorted(groups, key=lambda p: (known.index(p) if p in known else len(known), p))
    return [
        (PLATFORM_NAMES.get(p, p.title()), sorted(groups[p], key=lambda f: not f.blocks))
        for p in order
    ]


def _composer(request: AuthedRequest, *, client: Client, post: CrossPost | None) -> HttpResponse:
    accounts = composer_accounts(client=client)
    findings: list[Finding] | None = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in SUBMIT_ACTIONS:
            return HttpResponseBadRequest("Unknown action.")
        checks = _checks_for(request, client, accounts, fresh=action in (SCHEDULE, NOW))
        form = ComposerForm(
            request.POST, client=client, accounts=accounts, checks=checks, post=post, action=action
        )
        if form.is_valid():
            try:
                return _submit(request, form=form, client=client, post=post, checks=checks)
            except PreflightRefused as refused:
                findings = refused.findings
                form.add_error(
                    None, "Nothing was scheduled: the checks below found problems to fix first."
                )
            except ChangeRefused as refused:
                form.add_error(None, str(refused))
            except ValidationError as error:
                apply_validation_error(form, error)
    else:
        checks = check_accounts(accounts)
        initial = {"submission": uuid4()} if post is None else {}
        form = ComposerForm(
            client=client, accounts=accounts, checks=checks, post=post, initial=initial
        )
    if findings is None:
        findings = post_findings(content=form.content(), checks=checks)
    context = _context(client=client, post=post, form=form, checks=checks, findings=findings)
    response = render(request, COMPOSER, context)
    # The creator's avatar comes from TikTok's CDN; only this page may show images from it.
    response._csp_update = {"img-src": TIKTOK_AVATAR_HOSTS}  # type: ignore[attr-defined]
    return response


def _submit(
    request: AuthedRequest,
    *,
    form: ComposerForm,
    client: Client,
    post: CrossPost | None,
    checks: dict[int, AccountCheck],
) -> HttpResponse:
    content = form.content()
    submission = form.cleaned_data.get("submission")
    if form.action == DRAFT:
        draft = services.crosspost_save_draft(
            actor=request.user,
            client=client,
            content=content,
            scheduled_at=form.scheduled_at,
            post=post,
            submission_key=submission,
        )
        messages.success(request, "Draft saved. Finish it whenever you're ready.")
        return redirect("publishing:edit", pk=draft.pk)
    assert form.scheduled_at is not None
    if post is not None and not post.is_draft:
        saved = services.crosspost_update(
            actor=request.user,
            post=post,
            content=content,
            scheduled_at=form.scheduled_at,
            checks=checks,
        )
        verb = "Saved"
    else:
        saved = services.crosspost_schedule(
            actor=request.user,
            client=client,
            content=content,
            scheduled_at=form.scheduled_at,
            checks=checks,
            post=post,
            submission_key=submission,
        )
        verb = "Scheduled"
    when = localtime.describe(saved.scheduled_at or form.scheduled_at, client.timezone)
    if form.action == NOW:
        messages.success(request, f"Publishing now. {AFTER_PUBLISH_NOTE}")
    else:
        messages.success(request, f"{verb}: publishes {when}. {AFTER_PUBLISH_NOTE}")
    return redirect("publishing:post", pk=saved.pk)


@login_required
@require_http_methods(["GET", "POST"])
def compose(request: AuthedRequest, slug: str) -> HttpResponse:
    client = get_client_for_view(request.user, slug)
    if client.is_archived:
        messages.error(request, f"{client.name} is archived: unarchive it to make new posts.")
        return redirect("clients:detail", slug=client.slug)
    return _composer(request, client=client, post=None)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: AuthedRequest, pk: int) -> HttpResponse:
    post = get_crosspost_for_view(request.user, pk)
    if not editable(post):
        messages.info(request, "This post can't be edited any more: publishing has started.")
        return redirect("publishing:post", pk=post.pk)
    return _composer(request, client=post.client, post=post)


def _preflight(request: AuthedRequest, *, client: Client, post: CrossPost | None) -> HttpResponse:
    accounts = composer_accounts(client=client)
    known = open_checks(request.POST.get("account_checks", ""), client=client)
    chosen = {int(v) for v in request.POST.getlist("accounts") if v.isdigit()}
    # Ask only about ticked accounts the page had no answer for (or an expired one).
    asked = check_accounts([a for a in accounts if a.pk in chosen], known=known)
    checks = {**known, **asked}
    form = ComposerForm(
        request.POST, client=client, accounts=accounts, checks=checks, post=post, action=PREVIEW
    )
    form.is_valid()
    findings = post_findings(content=form.content(), checks=checks)
    context = _context(client=client, post=post, form=form, checks=checks, findings=findings)
    return render(request, COMPOSER + "#preflight", {**context, "oob": True})


@login_required
@require_POST
def preflight(request: AuthedRequest, pk: int) -> HttpResponse:
    post = get_crosspost_for_view(request.user, pk)
    return _preflight(request, client=post.client, post=post)


@login_required
@require_POST
def preflight_new(request: AuthedRequest, slug: str) -> HttpResponse:
    client = get_client_for_view(request.user, slug)
    return _preflight(request, client=client, post=None)


@login_required
@require_POST
def cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    post = get_crosspost_for_view(request.user, pk)
    try:
        services.crosspost_cancel(actor=request.user, post=post)
    except ChangeRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Post cancelled: nothing of it will be published.")
    return redirect("publishing:post", pk=post.pk)


@login_required
@require_http_methods(["GET", "POST"])
def reschedule(request: AuthedRequest, pk: int) -> HttpResponse:
    post = get_crosspost_for_view(request.user, pk)
    if post.is_draft:
        return redirect("publishing:edit", pk=post.pk)
    client = post.client
    form = RescheduleForm(
        request.POST or None,
        client=client,
        initial=RescheduleForm.initial_for(post.scheduled_at, client.timezone),
    )
    if request.method == "POST" and form.is_valid():
        assert form.scheduled_at is not None
        try:
            services.crosspost_reschedule(
                actor=request.user, post=post, scheduled_at=form.scheduled_at
            )
        except ChangeRefused as refused:
            form.add_error(None, str(refused))
        else:
            when = localtime.describe(form.scheduled_at, client.timezone)
            messages.success(request, f"Rescheduled: publishes {when}.")
            return redirect("publishing:post", pk=post.pk)
    current = localtime.describe(post.scheduled_at, client.timezone) if post.scheduled_at else ""
    return render(
        request,
        "publishing/reschedule.html",
        {"post": post, "client": client, "form": form, "current": current},
    )
