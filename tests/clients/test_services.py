from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.audit.models import AuditEvent
from apps.clients import services
from apps.clients.models import Client, ClientMembership
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_makes_a_creating_manager_the_account_manager(manager):
    client = services.client_create(actor=manager, name="Acme Tea", timezone_name="Asia/Tokyo")
    assert client.account_manager == manager
    assert ClientMembership.objects.filter(client=client, user=manager).exists()
    assert client.slug == "acme-tea"


def test_it_audits_creation_in_the_same_transaction(admin_user):
    client = services.client_create(actor=admin_user, name="Acme Tea", timezone_name="UTC")
    event = AuditEvent.objects.get(action="client.created")
    assert event.client_id == client.pk
    assert event.actor == admin_user
    assert event.data["after"]["name"] == "Acme Tea"


def test_it_refuses_a_duplicate_name_case_insensitively(admin_user):
    services.client_create(actor=admin_user, name="Acme Tea", timezone_name="UTC")
    with pytest.raises(ValidationError) as exc:
        services.client_create(actor=admin_user, name="  acme TEA ", timezone_name="UTC")
    assert "already exists" in str(exc.value)
    assert Client.objects.count() == 1
    assert AuditEvent.objects.filter(action="client.created").count() == 1


def test_it_refuses_an_unknown_timezone_and_saves_nothing(admin_user):
    with pytest.raises(ValidationError):
        services.client_create(actor=admin_user, name="Acme", timezone_name="Mars/Olympus")
    assert not Client.objects.exists()
    assert not AuditEvent.objects.exists()


def test_it_refuses_a_staff_member_as_account_manager(admin_user, staff_member):
    with pytest.raises(ValidationError):
        services.client_create(
            actor=admin_user, name="Acme", timezone_name="UTC", account_manager=staff_member
        )
    assert not Client.objects.exists()


def test_it_audits_only_changed_fields_on_edit(admin_user, client_obj):
    services.client_update(
        actor=admin_user,
        client=client_obj,
        name=client_obj.name,
        timezone_name="Asia/Tokyo",
        notes=client_obj.notes,
        account_manager=client_obj.account_manager,
    )
    event = AuditEvent.objects.get(action="client.edited")
    assert event.data["changes"] == {"timezone": {"before": "Europe/London", "after": "Asia/Tokyo"}}


def test_it_keeps_the_old_name_when_the_new_one_is_taken(admin_user, client_obj):
    ClientFactory(name="Taken Name")
    with pytest.raises(ValidationError):
        services.client_update(
            actor=admin_user,
            client=client_obj,
            name="taken name",
            timezone_name="UTC",
            notes="",
            account_manager=None,
        )
    client_obj.refresh_from_db()
    assert client_obj.name == "Northwind Coffee"


def test_it_archives_and_unarchives_once_each(admin_user, client_obj):
    services.client_archive(actor=admin_user, client=client_obj)
    services.client_archive(actor=admin_user, client=client_obj)  # double click
    client_obj.refresh_from_db()
    assert client_obj.status == Client.Status.ARCHIVED
    assert AuditEvent.objects.filter(action="client.archived").count() == 1
    services.client_unarchive(actor=admin_user, client=client_obj)
    client_obj.refresh_from_db()
    assert client_obj.status == Client.Status.ACTIVE
    assert AuditEvent.objects.filter(action="client.unarchived").count() == 1


def test_it_adds_a_member_once(manager, client_obj):
    newcomer = UserFactory(name="Nia New")
    services.client_membership_add(actor=manager, client=client_obj, user=newcomer)
    services.client_membership_add(actor=manager, client=client_obj, user=newcomer)
    assert ClientMembership.objects.filter(client=client_obj, user=newcomer).count() == 1
    assert (
        AuditEvent.objects.filter(action="client.member_added", target_id=str(newcomer.pk)).count()
        == 1
    )


def test_it_refuses_to_add_a_deactivated_user(manager, client_obj):
    gone = UserFactory(is_active=False)
    with pytest.raises(ValidationError):
        services.client_membership_add(actor=manager, client=client_obj, user=gone)


def test_it_removes_a_member_and_audits(manager, staff_member, client_obj):
    membership = ClientMembership.objects.get(client=client_obj, user=staff_member)
    services.client_membership_remove(actor=manager, membership=membership)
    assert not ClientMembership.objects.filter(pk=membership.pk).exists()
    event = AuditEvent.objects.get(action="client.member_removed")
    assert event.target_label == staff_member.label


def test_it_refuses_to_remove_the_account_manager(manager, client_obj):
    membership = ClientMembership.objects.get(client=client_obj, user=manager)
    with pytest.raises(ValidationError):
        services.client_membership_remove(actor=manager, membership=membership)
    assert ClientMembership.objects.filter(pk=membership.pk).exists()
