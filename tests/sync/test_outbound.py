"""Outbound routing and writes, end to end against the sandbox org over HTTPS."""

import pytest

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import SyncHistory, SyncStatus
from sync.engine.outbound import push_prospects
from sync.models import Connector, SyncError
from sync.verification import verify_connector

pytestmark = pytest.mark.django_db

EXT = "pi__Pardot_Prospect_Id__c"


def leads_with(sf, email):
    return sf.query(
        f"SELECT Id, LastName, Company, OwnerId, {EXT} FROM Lead WHERE Email = '{email}'"
    )["records"]


@pytest.fixture
def owner(db):
    """A Leadbridge user whose email matches the demo org's sales rep Alice."""
    return UserFactory(username="alice", email="alice@acme.example")


def test_it_creates_a_lead_for_an_assigned_prospect_with_no_match(
    connector, sf, owner, unique_email
):
    prospect = ProspectFactory(
        email=unique_email(),
        assigned_user=owner,
        last_name="Okafor",
        company="Initech",
        score=42,
        state="",
        country="",
    )
    report = push_prospects(connector=connector, prospect_ids=[prospect.pk])
    assert report.synced == 1, report.outcomes
    prospect.refresh_from_db()
    [lead] = leads_with(sf, prospect.email)
    assert prospect.crm_lead_id == lead["Id"] and prospect.sync_status == SyncStatus.SYNCED
    assert (lead["LastName"], lead["Company"], lead[EXT]) == (
        "Okafor",
        "Initech",
        prospect.sync_key.hex,
    )
    alice = sf.query("SELECT Id FROM User WHERE Username = 'alice@acme.example'")["records"][0]
    assert lead["OwnerId"] == alice["Id"]
    assert sf.Lead.get(lead["Id"])["pi__score__c"] == 42
    assert prospect.sync_history.get().result == SyncHistory.Result.OK


def test_unmapped_owner_falls_back_to_the_connector_user(connector, sf, unique_email, sandbox_org):
    prospect = ProspectFactory(
        email=unique_email(),
        assigned_user=UserFactory(email="x@nowhere.example"),
        state="",
        country="",
    )
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    [lead] = leads_with(sf, prospect.email)
    users = {r["Id"]: r["Username"] for r in sf.query("SELECT Id, Username FROM User")["records"]}
    assert users[lead["OwnerId"]] == sandbox_org.username, users


def test_unassigned_prospect_without_a_match_waits_for_assignment(connector, sf, unique_email):
    prospect = ProspectFactory(email=unique_email(), assigned_user=None)
    report = push_prospects(connector=connector, prospect_ids=[prospect.pk])
    assert report.waiting == 1
    prospect.refresh_from_db()
    assert prospect.sync_status == SyncStatus.WAITING_ASSIGNMENT
    assert leads_with(sf, prospect.email) == []
    assert not SyncError.objects.exists()


def test_do_not_sync_prospects_never_go(connector, sf, owner, unique_email):
    prospect = ProspectFactory(email=unique_email(), assigned_user=owner, do_not_sync=True)
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    assert leads_with(sf, prospect.email) == []


def test_it_links_existing_contact_before_creating_a_lead(connector, sf, owner, unique_email):
    email = unique_email()
    contact = sf.Contact.create({"LastName": "Existing", "Email": email})
    sf.Lead.create({"LastName": "AlsoExisting", "Company": "X", "Email": email})
    prospect = ProspectFactory(email=email, assigned_user=owner, state="", country="")
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    assert prospect.crm_contact_id == contact["id"] and prospect.crm_lead_id == ""
    assert len(leads_with(sf, email)) == 1  # nothing new created


def test_lead_first_precedence_links_the_lead(connector, sf, owner, unique_email):
    connector.email_precedence = Connector.EmailPrecedence.LEAD_FIRST
    connector.save()
    email = unique_email()
    sf.Contact.create({"LastName": "C", "Email": email})
    lead = sf.Lead.create({"LastName": "L", "Company": "X", "Email": email})
    prospect = ProspectFactory(email=email, assigned_user=owner)
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    assert prospect.crm_lead_id == lead["id"] and prospect.crm_contact_id == ""


def test_most_recent_precedence_links_the_newest_record(connector, sf, owner, unique_email):
    connector.email_precedence = Connector.EmailPrecedence.MOST_RECENT
    connector.save()
    email = unique_email()
    sf.Contact.create({"LastName": "Old", "Email": email})
    lead = sf.Lead.create({"LastName": "New", "Company": "X", "Email": email})
    sf.Lead.update(lead["id"], {"Title": "touched later"})
    prospect = ProspectFactory(email=email, assigned_user=owner)
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    assert prospect.crm_lead_id == lead["id"]


def test_without_email_matching_an_assigned_prospect_gets_its_own_record(
    connector, sf, owner, unique_email
):
    connector.match_by_email = False
    connector.new_record_type = Connector.RecordType.CONTACT
    connector.save()
    email = unique_email()
    existing = sf.Contact.create({"LastName": "Existing", "Email": email})
    prospect = ProspectFactory(email=email, assigned_user=owner, state="", country="")
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    assert prospect.crm_contact_id and prospect.crm_contact_id != existing["id"]


def test_update_sends_only_what_differs_and_nothing_means_no_call(
    connector, sf_client, sf, owner, unique_email
):
    prospect = ProspectFactory(email=unique_email(), assigned_user=owner, state="", country="")
    push_prospects(connector=connector, prospect_ids=[prospect.pk], client=sf_client)
    prospect.refresh_from_db()
    calls = sf_client.api_calls
    report = push_prospects(connector=connector, prospect_ids=[prospect.pk], client=sf_client)
    assert report.outcomes[0].result == "nothing"
    assert sf_client.api_calls - calls == 1  # the read of the record, no write
    prospect.job_title = "Head of Widgets"
    prospect.stamp_changes(["job_title"])
    prospect.save()
    push_prospects(connector=connector, prospect_ids=[prospect.pk], client=sf_client)
    assert sf.Lead.get(prospect.crm_lead_id)["Title"] == "Head of Widgets"
    entry = prospect.sync_history.first()
    assert [c["field"] for c in entry.changes] == ["job_title"]


def test_a_retried_create_does_not_duplicate(connector, sf, owner, unique_email):
    connector.match_by_email = False
    connector.save()
    prospect = ProspectFactory(email=unique_email(), assigned_user=owner, state="", country="")
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    # A worker died after Salesforce created the lead but before we stored its id.
    prospect.refresh_from_db()
    first_id = prospect.crm_lead_id
    type(prospect).objects.filter(pk=prospect.pk).update(crm_lead_id="")
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    assert prospect.crm_lead_id == first_id
    assert len(leads_with(sf, prospect.email)) == 1


def test_rejections_become_sync_errors_and_the_rest_of_the_batch_goes(
    connector, sf, owner, unique_email
):
    good = ProspectFactory(email=unique_email("good"), assigned_user=owner, state="", country="")
    long_comment = ProspectFactory(
        email=unique_email("long"), assigned_user=owner, notes="x" * 143, state="", country=""
    )
    bad_state = ProspectFactory(
        email=unique_email("state"), assigned_user=owner, country="United States", state="Atlantis"
    )
    report = push_prospects(
        connector=connector, prospect_ids=[good.pk, long_comment.pk, bad_state.pk]
    )
    assert report.synced == 1 and report.failed == 2, report.outcomes
    error = SyncError.objects.get(prospect=long_comment)
    assert error.error_code == "STRING_TOO_LONG" and error.field == "Customer_Comment__c"
    assert "max length=100" in error.message
    assert error.category == "data_formatting"
    assert error.value_sent == "x" * 143
    assert "100" in error.constraint and "143" in error.constraint
    assert SyncError.objects.get(prospect=bad_state).error_code == "FIELD_INTEGRITY_EXCEPTION"
    long_comment.refresh_from_db()
    assert long_comment.sync_status == SyncStatus.ERROR and long_comment.crm_lead_id == ""


def test_the_same_refusal_again_bumps_attempts_and_a_clean_sync_clears_it(
    connector, owner, unique_email
):
    prospect = ProspectFactory(
        email=unique_email(), assigned_user=owner, notes="y" * 150, state="", country=""
    )
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    error = SyncError.objects.get(prospect=prospect)
    assert error.attempts == 2
    prospect.notes = "short now"
    prospect.save()
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    error.refresh_from_db()
    assert error.resolved_at is not None and error.resolution == "clean_sync"
    prospect.refresh_from_db()
    assert prospect.sync_status == SyncStatus.SYNCED


def test_a_duplicate_rule_blocks_a_second_lead_with_the_same_email(
    connector, sf, owner, unique_email
):
    connector.match_by_email = False
    connector.save()
    email = unique_email()
    sf.Lead.create({"LastName": "First", "Company": "X", "Email": email})
    prospect = ProspectFactory(email=email, assigned_user=owner, state="", country="")
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    error = SyncError.objects.get(prospect=prospect)
    assert error.error_code == "DUPLICATES_DETECTED" and error.category == "process_alignment"


def test_without_the_external_id_nothing_is_created_and_the_connector_asks_for_attention(
    connector, sf, sandbox_org, owner, unique_email
):
    lead = sf.Lead.create({"LastName": "Linked", "Company": "Initech", "Email": unique_email()})
    linked = ProspectFactory(
        email=unique_email(), assigned_user=owner, crm_lead_id=lead["id"], notes="Still updated"
    )
    new = ProspectFactory(email=unique_email(), assigned_user=owner, state="", country="")
    sandbox_org.control("revoke_field", sobject="Lead", field=EXT)
    try:
        report = push_prospects(connector=connector, prospect_ids=[new.pk, linked.pk])
    finally:
        sandbox_org.control("restore_field", sobject="Lead", field=EXT)
    # A create without the external id could be repeated into a duplicate: none is sent.
    assert leads_with(sf, new.email) == []
    error = SyncError.objects.get(prospect=new, resolved_at=None)
    assert error.category == "access" and error.field == EXT
    new.refresh_from_db()
    assert new.sync_status == SyncStatus.ERROR and new.crm_lead_id == ""
    # The rest of the batch goes; the connector asks for attention but keeps syncing.
    assert report.by_prospect()[linked.pk].result == "synced", report.outcomes
    assert sf.Lead.get(lead["id"])["Customer_Comment__c"] == "Still updated"
    connector.refresh_from_db()
    assert connector.state == Connector.State.NEEDS_ATTENTION and connector.may_sync
    assert [p for p in connector.problems if p.get("sobject") == "Lead" and p.get("field") == EXT]


def test_verification_keeps_a_lost_external_id_flagged_until_it_is_back(connector, sandbox_org):
    sandbox_org.control("revoke_field", sobject="Lead", field=EXT)
    try:
        verify_connector(connector=connector)
    finally:
        sandbox_org.control("restore_field", sobject="Lead", field=EXT)
    lost = [p for p in connector.problems if p.get("sobject") == "Lead" and p.get("field") == EXT]
    assert connector.state == Connector.State.NEEDS_ATTENTION and len(lost) == 1
    verify_connector(connector=connector)
    assert connector.state == Connector.State.ACTIVE and not connector.problems
