from __future__ import annotations

import factory
from django.utils.text import slugify

from apps.clients.models import Client, ClientMembership
from apps.staff.models import Role, User

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
