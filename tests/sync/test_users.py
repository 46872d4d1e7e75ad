"""Salesforce users → portal users per the profile mapping; owners and assigned users by
Salesforce user id, both ways (sync/engine/users.py, crm/portal_users.py)."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from crm.models import PortalRole, SalesforceProfile, SalesforceUser
from crm.portal_users import reconcile_all
from portal.demo import DEMO_PROFILE_ROLES, load_demo_profile_mapping
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect
from sync.engine.inbound import pull_changes
from sync.engine.outbound import push_prospects
from sync.engine.users import sync_users
from sync.models import SyncCursor, SyncError
from tests.conftest import ensure_roles

pytestmark = pytest.mark.django_db

User = get_user_model()


def sf_id(sf, username: str) -> str:
    return sf.query(f"SELECT Id FROM User WHERE Username = '{username}'")["records"][0]["Id"]


def leads_with(sf, email: str) -> list[dict]:
    return sf.query(f"SELECT Id, OwnerId FROM Lead WHERE Email = '{email}'")["records"]


@pytest.fixture
def mapped(connector):
    """The demo org's users mirrored, Standard User → Marketer, System Administrator → Sync
    admin (everything else: no portal access), and the portal users reconciled."""
    ensure_roles()
    sync_users(connector=connector)
    SalesforceProfile.objects.filter(name="Standard User").update(portal_role=PortalRole.MARKETER)
    SalesforceProfile.objects.filter(name="System Administrator").update(
        portal_role=PortalRole.SYNC_ADMIN
    )
    reconcile_all()
    return connector


def portal(username: str):
    return SalesforceUser.objects.get(username=username).portal_user


def test_demo_users_become_portal_users_and_owners_agree_both_ways(
    mapped, sf, unique_email, client
):
    # The demo's Salesforce users appear as portal users per the profile mapping.
    made = {u.username: u for u in User.objects.all()}
    assert {"alice@acme.example", "arthur@acme.example", "bella@acme.example"} <= set(made)
    alice = made["alice@acme.example"]
    assert (alice.first_name, alice.last_name, alice.email) == ("Alice", "Ames", alice.username)
    assert list(alice.groups.values_list("name", flat=True)) == ["Marketer"]
    assert not alice.has_usable_password()
    admin = made["admin@acme.example"]
    assert list(admin.groups.values_list("name", flat=True)) == ["Sync admin"] and admin.is_staff
    # Inactive (Ivan), unmapped profiles (the connector, Mia, the partner): no portal user.
    assert not {"ivan@acme.example", "connector@acme.example", "mia@acme.example"} & set(made)
    assert "Inactive in Salesforce" in SalesforceUser.objects.get(username="ivan@acme.example").note
    assert (
        "mapped to no portal role" in SalesforceUser.objects.get(username="mia@acme.example").note
    )
    # Each got an invitation whose link sets a password.
    invitation = next(m for m in mail.outbox if m.to == [alice.email])
    link = re.search(r"https?://\S+(/crm/welcome/\S+/)", invitation.body)[1]
    page = client.get(link, follow=True)
    assert page.status_code == 200 and b"new_password1" in page.content
    client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "a-Long-passw0rd!", "new_password2": "a-Long-passw0rd!"},
    )
    alice.refresh_from_db()
    assert alice.check_password("a-Long-passw0rd!")

    # Push: the assigned user's Salesforce user owns the new lead — by id, whatever the email.
    alice.email = "alice.changed@elsewhere.example"
    alice.save()
    prospect = ProspectFactory(email=unique_email(), assigned_user=alice, state="", country="")
    assert push_prospects(connector=mapped, prospect_ids=[prospect.pk]).synced == 1
    [lead] = leads_with(sf, prospect.email)
    assert lead["OwnerId"] == sf_id(sf, "alice@acme.example")

    # Pull: the owner set in the org becomes the assigned user.
    prospect.refresh_from_db()
    SyncCursor.objects.update_or_create(
        connector=mapped,
        sobject="Lead",
        defaults={"watermark": timezone.now() - dt.timedelta(seconds=5)},
    )
    sf.Lead.update(lead["Id"], {"OwnerId": sf_id(sf, "bella@acme.example")})
    pull_changes(connector=mapped)
    prospect.refresh_from_db()
    assert prospect.assigned_user == portal("bella@acme.example")


def test_a_profile_mapped_to_nothing_deactivates_the_users_the_sync_made(mapped):
    alice = portal("alice@acme.example")
    SalesforceProfile.objects.filter(name="Standard User").update(portal_role=PortalRole.NONE)
    report = reconcile_all()
    alice.refresh_from_db()
    assert alice.pk in report.deactivated
    assert not alice.is_active and not alice.groups.exists()
    sf_user = SalesforceUser.objects.get(username="alice@acme.example")
    assert sf_user.note == "Profile “Standard User” is mapped to no portal role."
    # Mapped again: the same portal user comes back, with the role, and no second account.
    SalesforceProfile.objects.filter(name="Standard User").update(portal_role=PortalRole.MARKETER)
    reconcile_all()
    alice.refresh_from_db()
    assert alice.is_active and list(alice.groups.values_list("name", flat=True)) == ["Marketer"]
    assert User.objects.filter(email__iexact="alice@acme.example").count() == 1


def test_a_portal_user_that_existed_is_linked_by_email_and_left_as_an_admin_set_it(connector):
    ensure_roles()
    mia = UserFactory(username="mia", email="MIA@acme.example")
    sync_users(connector=connector)  # Marketing User is mapped to nothing
    mia.refresh_from_db()
    link = SalesforceUser.objects.get(username="mia@acme.example")
    assert link.portal_user == mia and not link.manages_portal_user
    assert mia.is_active  # not the sync's to deactivate
    assert not User.objects.filter(username="mia@acme.example").exists()


def test_a_user_deactivated_in_salesforce_while_owning_prospects(
    mapped, sf, sandbox_org, unique_email
):
    arthur = portal("arthur@acme.example")
    owned = ProspectFactory(email=unique_email(), assigned_user=arthur, state="", country="")
    push_prospects(connector=mapped, prospect_ids=[owned.pk])
    admin = sandbox_org.admin()
    arthur_sf = sf_id(sf, "arthur@acme.example")
    admin.User.update(arthur_sf, {"IsActive": False})
    try:
        report = sync_users(connector=mapped)
        arthur.refresh_from_db()
        # The portal user is deactivated; the prospects keep their assignment.
        assert arthur.pk in report.portal.deactivated and not arthur.is_active
        owned.refresh_from_db()
        assert owned.assigned_user == arthur
        # A new record it would own is refused by Salesforce, and shows as a Sync Error.
        new = ProspectFactory(email=unique_email(), assigned_user=arthur, state="", country="")
        push_prospects(connector=mapped, prospect_ids=[new.pk])
        error = SyncError.objects.get(prospect=new)
        assert error.error_code == "INACTIVE_OWNER_OR_USER"
        assert f"inactive user [{arthur_sf}] as owner of lead" in error.message
    finally:
        admin.User.update(arthur_sf, {"IsActive": True})
    sync_users(connector=mapped)
    arthur.refresh_from_db()
    assert arthur.is_active


@pytest.mark.parametrize("exclude", [True, False])
def test_partner_users_are_excluded_from_assignment_when_the_setting_says_so(
    connector, sf, unique_email, exclude
):
    connector.exclude_partner_users = exclude
    connector.save()
    pat = UserFactory(username="pat", email="pat@globex.example")
    sync_users(connector=connector)
    assert SalesforceUser.objects.get(portal_user=pat).is_partner
    pat_sf = sf_id(sf, "pat@globex.example")
    prospect = ProspectFactory(email=unique_email(), assigned_user=pat, state="", country="")
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    [lead] = leads_with(sf, prospect.email)
    expected = sf_id(sf, "connector@acme.example") if exclude else pat_sf
    assert lead["OwnerId"] == expected
    # And a record Salesforce hands to the partner is not assigned to them here.
    other = ProspectFactory(email=unique_email(), assigned_user=None, state="", country="")
    created = sf.Lead.create({"LastName": "Part", "Company": "Globex", "Email": other.email})
    Prospect.objects.filter(pk=other.pk).update(crm_lead_id=created["id"])
    SyncCursor.objects.update_or_create(
        connector=connector,
        sobject="Lead",
        defaults={"watermark": timezone.now() - dt.timedelta(seconds=5)},
    )
    sf.Lead.update(created["id"], {"OwnerId": pat_sf})
    pull_changes(connector=connector)
    other.refresh_from_db()
    assert other.assigned_user == (None if exclude else pat)


def test_the_user_sync_is_incremental(connector, sf_client):
    asked = []
    query_all = sf_client.query_all
    sf_client.query_all = lambda soql, **kw: asked.append(soql) or query_all(soql, **kw)
    first = sync_users(connector=connector, client=sf_client)
    assert first.users >= 9 and first.profiles >= 5
    assert all("WHERE" not in soql for soql in asked)
    asked.clear()
    sync_users(connector=connector, client=sf_client)
    assert len(asked) == 2 and all("WHERE SystemModstamp >" in soql for soql in asked)


def test_the_demos_mapping_by_name_makes_the_demo_users_portal_users(connector):
    ensure_roles()
    load_demo_profile_mapping()
    report = sync_users(connector=connector)
    profiles = SalesforceProfile.objects.filter(name__in=DEMO_PROFILE_ROLES)
    assert profiles.count() == 3 and not profiles.filter(sf_id=None).exists()
    made = set(User.objects.filter(pk__in=report.portal.created).values_list("username", flat=True))
    assert {"admin@acme.example", "alice@acme.example", "mia@acme.example"} <= made
    assert not {"connector@acme.example", "pat@globex.example", "ivan@acme.example"} & made
