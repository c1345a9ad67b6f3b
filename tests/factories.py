from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone
from django.utils.text import slugify

from apps.clients.models import Client, ClientMembership
from apps.connections import vault
from apps.connections.models import Capability, ConnectLink, Credential, LinkedAccount, State
from apps.platforms.types import Platform, TokenSet
from apps.publishing.models import (
    CrossPost,
    MediaAsset,
    PublishAttempt,
    PublishTarget,
    TargetState,
)
from apps.staff.models import Role, User
from tests.publishing.media_helpers import probe_result

DAY = 24 * 3600

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@agency.example")
    role = Role.STAFF
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class ClientFactory(factory.django.DjangoModelFactory[Client]):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    timezone = "Europe/London"


class MembershipFactory(factory.django.DjangoModelFactory[ClientMembership]):
    class Meta:
        model = ClientMembership

    client = factory.SubFactory(ClientFactory)
    user = factory.SubFactory(UserFactory)


class LinkedAccountFactory(factory.django.DjangoModelFactory[LinkedAccount]):
    """A linked account written straight to the database (no platform involved)."""

    class Meta:
        model = LinkedAccount

    client = factory.SubFactory(ClientFactory)
    platform = Platform.TIKTOK
    external_id = factory.Sequence(lambda n: f"platform-account-{n}")
    handle = "brand"
    state = State.ACTIVE
    publish_capability = Capability.OK


class CredentialFactory(factory.django.DjangoModelFactory[Credential]):
    """Encrypted tokens for an account, stored through the vault like a real grant.

    `access`/`refresh` are the plaintext tokens; lifetimes are seconds from `obtained_at`.
    """

    class Meta:
        model = Credential

    account = factory.SubFactory(LinkedAccountFactory)
    access = "act.test"
    refresh: str | None = "rft.test"
    expires_in: int | None = DAY
    refresh_expires_in: int | None = 365 * DAY
    obtained_at = None

    @classmethod
    def _create(cls, model_class: type[Credential], *args: Any, **kwargs: Any) -> Credential:
        return vault.credential_store(
            account=kwargs["account"],
            tokens=TokenSet(
                access_token=kwargs["access"],
                expires_in=kwargs["expires_in"],
                refresh_token=kwargs["refresh"],
                refresh_expires_in=kwargs["refresh_expires_in"],
            ),
            obtained_at=kwargs["obtained_at"],
        )


class ConnectLinkFactory(factory.django.DjangoModelFactory[ConnectLink]):
    """An open connect link; the plaintext token is on `link.token` (the database keeps a hash)."""

    class Meta:
        model = ConnectLink
        exclude = ("token",)

    client = factory.SubFactory(ClientFactory)
    platform = Platform.TIKTOK
    token = factory.Sequence(lambda n: f"connect-link-token-{n}")
    token_hash = factory.LazyAttribute(lambda o: ConnectLink.hash_token(o.token))
    created_by = factory.SubFactory(UserFactory, role=Role.MANAGER)
    expires_at = factory.LazyFunction(lambda: timezone.now() + ConnectLink.DEFAULT_LIFETIME)


class MediaAssetFactory(factory.django.DjangoModelFactory[MediaAsset]):
    """An asset row with a probe already stored (no file is read; `file` names a path only)."""

    class Meta:
        model = MediaAsset

    client = factory.SubFactory(ClientFactory)
    original_name = "clip.mp4"
    content_type = "video/mp4"
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    size = 12_000_000
    file = factory.LazyAttribute(lambda o: f"media/test/{o.sha256}")
    probe_state = MediaAsset.ProbeState.OK
    probe = factory.LazyFunction(
        lambda: probe_result(
            size_bytes=12_000_000, duration_s=30.0, bitrate_bps=3_200_000
        ).to_dict()
    )


class CrossPostFactory(factory.django.DjangoModelFactory[CrossPost]):
    class Meta:
        model = CrossPost

    client = factory.SubFactory(ClientFactory)
    media = factory.SubFactory(MediaAssetFactory, client=factory.SelfAttribute("..client"))
    caption = "New season, new menu #bakery"
    scheduled_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    status = CrossPost.Status.SCHEDULED


class PublishTargetFactory(factory.django.DjangoModelFactory[PublishTarget]):
    class Meta:
        model = PublishTarget

    crosspost = factory.SubFactory(CrossPostFactory)
    linked_account = factory.SubFactory(
        LinkedAccountFactory, client=factory.SelfAttribute("..crosspost.client")
    )
    platform = factory.LazyAttribute(lambda o: o.linked_account.platform)
    state = TargetState.SCHEDULED
    due_at = factory.LazyAttribute(lambda o: o.crosspost.scheduled_at)


class PublishAttemptFactory(factory.django.DjangoModelFactory[PublishAttempt]):
    """A finished, successful platform call; pass outcome, message, http_status… for others."""

    class Meta:
        model = PublishAttempt

    target = factory.SubFactory(PublishTargetFactory)
    step = "init"
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyAttribute(
        lambda o: o.started_at + timedelta(milliseconds=o.duration_ms or 0)
    )
    outcome = PublishAttempt.Outcome.OK
    duration_ms = 420
