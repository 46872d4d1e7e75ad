"""Person accounts, outbound: create, email match, update, and a person contact followed to its
account — against the sandbox org over HTTPS."""

import pytest

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import SyncStatus
from sync.engine.outbound import push_prospects
from sync.models import Connector

pytestmark = pytest.mark.django_db

EXT = "pi__Pardot_Prospect_Id__pc"


@pytest.fixture
def person_connector(connector):
    connector.person_accounts = True
    connector.new_record_type = Connector.RecordType.PERSON_ACCOUNT
    connector.match_by_email = True
    connector.save()
    return connector


@pytest.fixture
def owner(db):
    return UserFactory(username="alice", email="alice@acme.example")


def person_account(sf, account_id):
    return sf.query(
        "SELECT Id, Name, LastName, PersonEmail, PersonTitle, IsPersonAccount, PersonContactId, "
        f"OwnerId, pi__score__pc, {EXT} FROM Account WHERE Id = '{account_id}'"
    )["records"][0]


def test_an_assigned_prospect_becomes_a_person_account(person_connector, sf, owner, unique_email):
    prospect = ProspectFactory(
        email=unique_email(),
        salutation="",
        first_name="Ada",
        last_name="Okafor",
        job_title="CTO",
        score=77,
        assigned_user=owner,
        state="",
        country="",
    )
    report = push_prospects(connector=person_connector, prospect_ids=[prospect.pk])
    assert report.synced == 1, report.outcomes
    prospect.refresh_from_db()
    assert prospect.crm_person_account and prospect.sync_status == SyncStatus.SYNCED
    account = person_account(sf, prospect.crm_account_id)
    assert account["IsPersonAccount"] and account["Name"] == "Ada Okafor"
    assert (account["PersonEmail"], account["PersonTitle"]) == (prospect.email, "CTO")
    assert account["pi__score__pc"] == 77 and account[EXT] == prospect.sync_key.hex
    assert prospect.crm_contact_id == account["PersonContactId"]
    contact = sf.Contact.get(account["PersonContactId"])
    assert contact["Email"] == prospect.email and contact["IsPersonAccount"]
    assert not prospect.crm_lead_id


def test_a_prospect_matches_an_existing_person_account_by_email(
    person_connector, sf, owner, unique_email
):
    email = unique_email()
    created = sf.Account.create({"LastName": "Nakamura", "PersonEmail": email})
    prospect = ProspectFactory(
        email=email, last_name="Nakamura", job_title="Buyer", assigned_user=owner
    )
    report = push_prospects(connector=person_connector, prospect_ids=[prospect.pk])
    assert report.synced == 1, report.outcomes
    prospect.refresh_from_db()
    assert prospect.crm_account_id == created["id"] and prospect.crm_person_account
    assert person_account(sf, created["id"])["PersonTitle"] == "Buyer"
    history = prospect.sync_history.get()
    assert history.sobject == "Account" and history.message == "matched by email"
    # Lead-first precedence still prefers a lead with the same email.
    person_connector.email_precedence = Connector.EmailPrecedence.LEAD_FIRST
    person_connector.save()
    lead = sf.Lead.create({"LastName": "Nakamura", "Company": "Acme", "Email": email})
    other = ProspectFactory(email=email, last_name="Nakamura", assigned_user=owner)
    push_prospects(connector=person_connector, prospect_ids=[other.pk])
    other.refresh_from_db()
    assert other.crm_lead_id == lead["id"] and not other.crm_person_account


def test_a_linked_person_account_gets_only_what_changed(person_connector, sf, owner, unique_email):
    prospect = ProspectFactory(
        email=unique_email(), last_name="Ruiz", assigned_user=owner, state="", country=""
    )
    push_prospects(connector=person_connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    prospect.job_title = "Head of Ops"
    prospect.stamp_changes(["job_title"])
    prospect.save()
    report = push_prospects(connector=person_connector, prospect_ids=[prospect.pk])
    assert report.synced == 1, report.outcomes
    assert person_account(sf, prospect.crm_account_id)["PersonTitle"] == "Head of Ops"
    latest = prospect.sync_history.order_by("-at", "-pk").first()
    assert [c["field"] for c in latest.changes] == ["job_title"] or {
        c["field"] for c in latest.changes
    } == {"PersonTitle"}


def test_a_prospect_linked_to_a_person_contact_is_written_through_its_account(
    person_connector, sf, owner, unique_email
):
    """As after a lead converted to a person account: the prospect knows the person contact,
    which Salesforce lets nobody write; the engine writes the account instead."""
    email = unique_email()
    created = sf.Account.create({"LastName": "Lindqvist", "PersonEmail": email})
    contact_id = person_account(sf, created["id"])["PersonContactId"]
    prospect = ProspectFactory(
        email=email,
        last_name="Lindqvist",
        job_title="Analyst",
        assigned_user=owner,
        crm_contact_id=contact_id,
    )
    report = push_prospects(connector=person_connector, prospect_ids=[prospect.pk])
    assert report.synced == 1, report.outcomes
    prospect.refresh_from_db()
    assert prospect.crm_account_id == created["id"] and prospect.crm_person_account
    assert prospect.crm_contact_id == contact_id
    assert person_account(sf, created["id"])["PersonTitle"] == "Analyst"
    assert not prospect.sync_errors.exists()


def test_a_person_account_changed_in_salesforce_comes_back(
    person_connector, sf, owner, unique_email
):
    """Inbound reads person accounts through their person contacts (Contact poll)."""
    import datetime as dt

    from django.utils import timezone

    from sync.engine.inbound import pull_changes
    from sync.models import FieldRule, SyncCursor

    prospect = ProspectFactory(
        email=unique_email(), last_name="Sato", assigned_user=owner, state="", country=""
    )
    push_prospects(connector=person_connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    FieldRule.objects.filter(connector=person_connector, prospect_field="job_title").update(
        behaviour=FieldRule.Behaviour.SALESFORCE
    )
    for sobject in ("Lead", "Contact"):
        SyncCursor.objects.update_or_create(
            connector=person_connector,
            sobject=sobject,
            defaults={
                "watermark": timezone.now() - dt.timedelta(seconds=5),
                "deleted_watermark": timezone.now() - dt.timedelta(seconds=5),
            },
        )
    sf.Account.update(prospect.crm_account_id, {"PersonTitle": "Chief of Staff"})
    pull_changes(connector=person_connector)
    prospect.refresh_from_db()
    assert prospect.job_title == "Chief of Staff"
    assert prospect.crm_person_account and not prospect.crm_lead_id
