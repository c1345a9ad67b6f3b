"""The composer's forms: one post, its accounts and their per-platform options, and when.

Fields per account are named `a<account id>_<option>`; TikTok's are built from that creator's
info (PLATFORMS §1.11): privacy choices are exactly `privacy_level_options` with nothing chosen,
interactions and the disclosure start off. The form runs the same server-side rules as the
services (`apps.publishing.direct_post`), so a refusal names the field it is about.

`action` says what the submission wants: "preview" (live findings: nothing is required),
"draft" (finish later: little is required), "schedule" or "now" (everything is).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q
from django.urls import reverse

from apps.clients.models import Client
from apps.connections.models import LinkedAccount
from apps.platforms.types import Platform
from apps.publishing import direct_post
from apps.publishing.accounts import AccountCheck, account_label, publish_block
from apps.publishing.composition import PostContent, TargetPlan
from apps.publishing.models import CrossPost, MediaAsset, PublishTarget
from apps.publishing.preflight import CreatorInfo
from apps.publishing.services import publish_now_time
from apps.publishing.when_forms import WhenFields

PREVIEW, DRAFT, SCHEDULE, NOW = "preview", "draft", "schedule", "now"
SUBMIT_ACTIONS = (DRAFT, SCHEDULE, NOW)

# Instagram option keys (PublishTarget.options; apps/publishing/options.py parses them).
SHARE_TO_FEED = "share_to_feed"
COVER_OFFSET_MS = "cover_offset_ms"


class MediaSelect(forms.Select):
    """Each video's option carries where its preview and poster frame are (the page's script
    shows them when it is chosen)."""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        asset = getattr(value, "instance", None)
        if isinstance(asset, MediaAsset):
            option["attrs"]["data-video-url"] = reverse(
                "publishing:media_preview", kwargs={"pk": asset.pk}
            )
            if asset.poster:
                option["attrs"]["data-poster-url"] = reverse(
                    "publishing:media_poster", kwargs={"pk": asset.pk}
                )
        return option


class MediaChoiceField(forms.ModelChoiceField):
    widget = MediaSelect

    def label_from_instance(self, obj: MediaAsset) -> str:
        probe = obj.probe_result()
        if obj.is_pending:
            detail = "being checked"
        elif probe is None:
            detail = "unreadable"
        else:
            minutes, seconds = divmod(round(probe.duration_s), 60)
            detail = f"{minutes}:{seconds:02d}"
        return f"{obj.original_name} ({detail})"


@dataclass
class AccountSection:
    """One chosen-or-offered account's part of the form, for the template."""

    account: LinkedAccount
    block: str
    check: AccountCheck | None
    fields: dict[str, forms.BoundField] = field(default_factory=dict)
    checked: bool = False
    on_post: bool = False

    @property
    def label(self) -> str:
        return account_label(self.account)

    @property
    def creator(self) -> CreatorInfo | None:
        return self.check.creator if self.check else None

    @property
    def problem(self) -> str:
        """Why this TikTok creator can't take a post now (§1.11 rule 1), or ""."""
        if self.account.platform != Platform.TIKTOK or self.block:
            return ""
        if self.check is not None and self.check.problem is not None:
            return self.check.problem.message
        return direct_post.creator_problem(self.creator)

    @property
    def unavailable(self) -> str:
        """Why the account can't be chosen: our records say it can't publish, or TikTok said
        the creator can't post now (a cap or ban, §1.11 rule 1). A platform that merely didn't
        answer doesn't make it unavailable: it is asked again."""
        if self.block:
            return self.block
        creator = self.creator
        return direct_post.creator_problem(creator) if creator and creator.error else ""

    @property
    def selectable(self) -> bool:
        # An account already on the post stays selectable so it can be taken off.
        return not self.unavailable or self.on_post

    @property
    def template(self) -> str:
        return f"publishing/_options_{self.account.platform}.html"

    def _value(self, key: str) -> Any:
        bound = self.fields.get(key)
        return bound.value() if bound is not None else None

    @property
    def interaction_fields(self) -> list[forms.BoundField]:
        return [self.fields[key] for key, _, _ in direct_post.INTERACTIONS if key in self.fields]

    @property
    def branded(self) -> bool:
        """Branded content is ticked under a disclosure (SELF_ONLY is then unavailable)."""
        return bool(
            self._value(direct_post.DISCLOSE_COMMERCIAL) and self._value(direct_post.BRAND_CONTENT)
        )

    @property
    def disclosure_label(self) -> str:
        keys = (
            direct_post.DISCLOSE_COMMERCIAL,
            direct_post.BRAND_ORGANIC,
            direct_post.BRAND_CONTENT,
        )
        return direct_post.disclosure_label({key: self._value(key) for key in keys})


class ComposerForm(WhenFields):
    submission = forms.UUIDField(required=False, widget=forms.HiddenInput)
    account_checks = forms.CharField(required=False, widget=forms.HiddenInput)
    # Named `media` because the upload widget sets that input (Form.media, the widget assets,
    # stays reachable: declared fields leave the class).
    media = MediaChoiceField(  # type: ignore[assignment]
        queryset=MediaAsset.objects.none(),
        required=False,
        label="Choose an uploaded video",
        empty_label="None chosen",
    )
    caption = forms.CharField(
        required=False,
        label="Caption for every platform",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Unless you write one for a platform below.",
    )
    accounts = forms.MultipleChoiceField(required=False, label="Post to")

    def __init__(
        self,
        data: Any = None,
        *,
        client: Client,
        accounts: list[LinkedAccount],
        checks: dict[int, AccountCheck],
        post: CrossPost | None = None,
        action: str = PREVIEW,
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, client=client, initial=initial)
        self.post = post
        self.action = action
        self.offered = {account.pk: account for account in accounts}
        self.checks = checks
        existing = list(post.targets.exclude(state="cancelled")) if post is not None else []
        self.on_post = {t.linked_account_id: t for t in existing}
        media = self.fields["media"]
        assert isinstance(media, forms.ModelChoiceField)
        # Readable videos and those still being checked (preflight says when they are ready);
        # the post's own video whatever its state.
        usable = Q(probe_state__in=[MediaAsset.ProbeState.OK, MediaAsset.ProbeState.PENDING])
        if post is not None and post.media_id:
            usable |= Q(pk=post.media_id)
        media.queryset = MediaAsset.objects.filter(usable, client=client).order_by("-uploaded_at")
        accounts_field = self.fields["accounts"]
        assert isinstance(accounts_field, forms.MultipleChoiceField)
        accounts_field.choices = [(str(a.pk), account_label(a)) for a in accounts]
        for platform in sorted({a.platform for a in accounts}):
            self.fields[f"caption_{platform}"] = forms.CharField(
                required=False,
                max_length=10_000,
                label=f"{Platform(platform).label} caption",
                help_text=f"Leave empty to use the caption above on {Platform(platform).label}.",
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        for account in accounts:
            if account.platform == Platform.TIKTOK:
                self._add_tiktok_fields(account)
            else:
                self._add_instagram_fields(account)
        if post is not None and data is None:
            self._set_initial_from(post, existing)

    # --- fields -------------------------------------------------------------------------------

    @staticmethod
    def prefix_for(account: LinkedAccount) -> str:
        return f"a{account.pk}_"

    def _add_tiktok_fields(self, account: LinkedAccount) -> None:
        prefix = self.prefix_for(account)
        check = self.checks.get(account.pk)
        creator = check.creator if check else None
        options = list(creator.privacy_level_options) if creator else []
        privacy = forms.CharField(
            required=False,
            label="Who can see this post",
            # No preselected value: the person must choose (§1.11 rule 2).
            # Required to schedule (marked for assistive technology; the form is `novalidate`
            # so a draft can still be saved without it).
            widget=forms.Select(
                attrs={"required": True},
                choices=[("", direct_post.CHOOSE_PRIVACY)]
                + [(o, direct_post.privacy_label(o)) for o in options],
            ),
        )
        self.fields[prefix + direct_post.PRIVACY_LEVEL] = privacy
        for key, flag, name in direct_post.INTERACTIONS:
            turned_off = bool(creator and getattr(creator, flag))
            attrs = {"disabled": True} if turned_off else {}
            self.fields[prefix + key] = forms.BooleanField(
                required=False,
                label=f"Allow {name.lower()}",
                help_text=f"{name} are turned off for this account in TikTok."
                if turned_off
                else "",
                widget=forms.CheckboxInput(attrs=attrs),
            )
        self.fields[prefix + direct_post.DISCLOSE_COMMERCIAL] = forms.BooleanField(
            required=False,
            label="Disclose commercial content",
            help_text="Turn on if this post promotes a brand, product or service.",
        )
        self.fields[prefix + direct_post.BRAND_ORGANIC] = forms.BooleanField(
            required=False,
            label="Your brand",
            help_text="You are promoting yourself or your own business.",
        )
        self.fields[prefix + direct_post.BRAND_CONTENT] = forms.BooleanField(
            required=False,
            label="Branded content",
            help_text="You are promoting another brand or a third party.",
        )

    def _add_instagram_fields(self, account: LinkedAccount) -> None:
        prefix = self.prefix_for(account)
        self.fields[prefix + SHARE_TO_FEED] = forms.BooleanField(
            required=False,
            initial=True,
            label="Also share to the feed",
            help_text="Off: the reel shows in the Reels tab only.",
        )
        self.fields[prefix + "cover_at"] = forms.DecimalField(
            required=False,
            min_value=Decimal(0),
            decimal_places=1,
            max_digits=6,
            label="Cover frame at (seconds)",
            help_text="Which moment of the video Instagram shows as the cover; empty: the start.",
            widget=forms.NumberInput(attrs={"step": "0.1", "min": "0", "inputmode": "decimal"}),
        )

    def _set_initial_from(self, post: CrossPost, targets: list[PublishTarget]) -> None:
        self.initial.update(
            {
                "media": post.media_id,
                "caption": post.caption,
                "accounts": [str(t.linked_account_id) for t in targets],
                **{f"caption_{k}": v for k, v in post.caption_overrides.items()},
                **self.initial_for(post.scheduled_at, self.client.timezone),
            }
        )
        for target in targets:
            account = self.offered.get(target.linked_account_id)
            if account is None:
                continue
            prefix = self.prefix_for(account)
            options = target.options
            if account.platform == Platform.TIKTOK:
                for key, default in direct_post.normalized({}).items():
                    self.initial[prefix + key] = options.get(key, default)
            else:
                self.initial[prefix + SHARE_TO_FEED] = options.get(SHARE_TO_FEED, True)
                offset = options.get(COVER_OFFSET_MS)
                self.initial[prefix + "cover_at"] = (
                    Decimal(offset) / 1000 if offset is not None else None
                )

    # --- reading the submission ---------------------------------------------------------------

    def chosen_ids(self) -> list[int]:
        """The account ids ticked, as submitted (valid or not)."""
        raw = self.data.getlist("accounts") if hasattr(self.data, "getlist") else []
        if not self.is_bound:
            raw = self.initial.get("accounts", [])
        return [int(v) for v in raw if str(v).isdigit()]

    def sections(self) -> list[AccountSection]:
        chosen = set(self.chosen_ids())
        sections = []
        for account in self.offered.values():
            prefix = self.prefix_for(account)
            sections.append(
                AccountSection(
                    account=account,
                    block=publish_block(account),
                    check=self.checks.get(account.pk),
                    fields={
                        name.removeprefix(prefix): self[name]
                        for name in self.fields
                        if name.startswith(prefix)
                    },
                    checked=account.pk in chosen,
                    on_post=account.pk in self.on_post,
                )
            )
        return sections

    def caption_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("caption_")]

    def _options(self, account: LinkedAccount) -> dict[str, Any]:
        prefix = self.prefix_for(account)
        data = self.cleaned_data
        if account.platform == Platform.TIKTOK:
            keys = direct_post.normalized({})
            return direct_post.normalized({k: data.get(prefix + k) for k in keys})
        cover = data.get(prefix + "cover_at")
        return {
            SHARE_TO_FEED: bool(data.get(prefix + SHARE_TO_FEED)),
            COVER_OFFSET_MS: int(cover * 1000) if cover is not None else None,
        }

    def content(self) -> PostContent:
        """The post as composed so far (from what cleaned; usable on an invalid form too)."""
        if not self.is_bound:
            return self._initial_content()
        data = getattr(self, "cleaned_data", {})
        chosen = [self.offered[pk] for pk in self.chosen_ids() if pk in self.offered]
        return PostContent(
            media=data.get("media"),
            caption=data.get("caption") or "",
            caption_overrides={
                name.removeprefix("caption_"): data.get(name) or ""
                for name in self.fields
                if name.startswith("caption_") and data.get(name)
            },
            targets=tuple(TargetPlan(account=a, options=self._options(a)) for a in chosen),
        )

    def _initial_content(self) -> PostContent:
        post = self.post
        if post is None:
            return PostContent(media=None, caption="", caption_overrides={}, targets=())
        return PostContent(
            media=post.media,
            caption=post.caption,
            caption_overrides=dict(post.caption_overrides),
            targets=tuple(
                TargetPlan(account=self.offered[pk], options=dict(target.options))
                for pk, target in self.on_post.items()
                if pk in self.offered
            ),
        )

    # --- validation ---------------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        publishing = self.action in (SCHEDULE, NOW)
        if self.action == NOW:
            self.scheduled_at = publish_now_time()
        else:
            self.clean_when(required=self.action == SCHEDULE, future=self.action == SCHEDULE)
        if self.action == PREVIEW:
            return cleaned
        chosen = self._clean_accounts(publishing=publishing)
        if publishing and cleaned.get("media") is None and "media" not in self.errors:
            self.add_error("media", "Choose a video.")
        for account in chosen:
            if account.platform == Platform.TIKTOK and publishing:
                self._clean_tiktok(account)
            elif account.platform == Platform.INSTAGRAM:
                self._clean_instagram(account, cleaned.get("media"))
        return cleaned

    def _clean_accounts(self, *, publishing: bool) -> list[LinkedAccount]:
        chosen_ids = self.chosen_ids()
        unknown = [pk for pk in chosen_ids if pk not in self.offered]
        if unknown:
            self.add_error("accounts", "Choose among this client's connected accounts.")
        chosen = [self.offered[pk] for pk in chosen_ids if pk in self.offered]
        if publishing and not chosen and not unknown:
            self.add_error("accounts", "Choose at least one account to post to.")
        for account in chosen:
            block = publish_block(account)
            if block and (publishing or account.pk not in self.on_post):
                self.add_error(
                    "accounts",
                    f"{account_label(account)} can't publish — {block}. Untick it, or reconnect "
                    "it from its account page.",
                )
        return chosen

    def _clean_tiktok(self, account: LinkedAccount) -> None:
        prefix = self.prefix_for(account)
        check = self.checks.get(account.pk)
        raw = {key: self.cleaned_data.get(prefix + key) for key in direct_post.normalized({})}
        for key, why in direct_post.direct_post_problems(
            raw, check.creator if check else None
        ).items():
            if key:
                self.add_error(prefix + key, why)
            else:
                self.add_error("accounts", f"{account_label(account)}: {why}")

    def _clean_instagram(self, account: LinkedAccount, media: MediaAsset | None) -> None:
        prefix = self.prefix_for(account)
        cover = self.cleaned_data.get(prefix + "cover_at")
        probe = media.probe_result() if media is not None else None
        if cover is None or probe is None:
            return
        if cover * 1000 >= Decimal(probe.duration_s) * 1000:
            self.add_error(
                prefix + "cover_at",
                f"The cover frame must be within the video: from 0 to under "
                f"{probe.duration_s:.1f} seconds.",
            )
