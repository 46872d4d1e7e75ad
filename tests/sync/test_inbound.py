"""Inbound: Salesforce's changes come back to prospects, per the field rules."""

import datetime as dt

import pytest
from django.utils import timezone

from prospects.factories import CampaignFactory, ProspectFactory, UserFactory
from prospects.models import CrmQueue, CustomField, Prospect
from sync.engine.inbound import pull_changes
from sync.engine.outbound import push_prospects
from sync.models import DataSharingRule, FieldRule, SyncCursor

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return UserFactory(username="alice", email="alice@acme.example")


@pytest.fixture
def synced(connector, owner, unique_email):
    """A prospect pushed to a new Lead, with the pull watermark just before now."""
    prospect = ProspectFactory(email=unique_email(), assigned_user=owner, company="Initech")
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    assert prospect.crm_lead_id
    for sobject in ("Lead", "Contact"):
        SyncCursor.objects.update_or_create(
            connector=connector,
            sobject=sobject,
            defaults={
                "watermark": timezone.now() - dt.timedelta(seconds=5),
                "deleted_watermark": timezone.now() - dt.timedelta(seconds=5),
            },
        )
    return prospect


def set_behaviour(connector, field, behaviour, **extra):
    FieldRule.objects.filter(connector=connector, prospect_field=field).update(
        behaviour=behaviour, **extra
    )


def test_salesforce_wins_fields_take_salesforces_value(connector, sf, synced):
    set_behaviour(connector, "job_title", FieldRule.Behaviour.SALESFORCE)
    sf.Lead.update(synced.crm_lead_id, {"Title": "VP Sales"})
    report = pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.job_title == "VP Sales" and report.updated == 1
    entry = synced.sync_history.first()
    assert entry.direction == "inbound" and entry.changes[0]["field"] == "job_title"


def test_leadbridge_wins_fields_keep_ours_and_send_it_back(connector, sf, synced):
    set_behaviour(connector, "company", FieldRule.Behaviour.LEADBRIDGE)
    sf.Lead.update(synced.crm_lead_id, {"Company": "Changed In Salesforce"})
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.company == "Initech"
    assert synced.sync_status == "pending"  # queued to put Initech back
    push_prospects(connector=connector, prospect_ids=[synced.pk])
    assert sf.Lead.get(synced.crm_lead_id)["Company"] == "Initech"


def test_a_blank_here_is_filled_from_salesforce(connector, sf, synced):
    set_behaviour(connector, "territory", FieldRule.Behaviour.LEADBRIDGE, lead_field="Region__c")
    Prospect.objects.filter(pk=synced.pk).update(territory="")
    sf.Lead.update(synced.crm_lead_id, {"Region__c": "EMEA"})
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.territory == "EMEA"


def test_most_recent_value_wins(connector, sf, synced):
    set_behaviour(connector, "job_title", FieldRule.Behaviour.MOST_RECENT)
    synced.stamp_changes(["job_title"], timezone.now() - dt.timedelta(days=1))
    synced.save()
    sf.Lead.update(synced.crm_lead_id, {"Title": "Newer in Salesforce"})
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.job_title == "Newer in Salesforce"


def test_dont_sync_fields_are_left_alone(connector, sf, synced):
    set_behaviour(connector, "job_title", FieldRule.Behaviour.DONT_SYNC)
    before = synced.job_title
    sf.Lead.update(synced.crm_lead_id, {"Title": "Ignored"})
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.job_title == before


def test_owner_sets_the_assigned_user(connector, sf, synced):
    bella = UserFactory(username="bella", email="bella@acme.example")
    bella_sf = sf.query("SELECT Id FROM User WHERE Username = 'bella@acme.example'")["records"][0]
    sf.Lead.update(synced.crm_lead_id, {"OwnerId": bella_sf["Id"]})
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.assigned_user == bella


def test_email_change_follows_only_with_the_setting(connector, sf, synced, unique_email):
    new_email = unique_email("changed")
    connector.auto_change_email = False
    connector.save()
    sf.Lead.update(synced.crm_lead_id, {"Email": new_email})
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.email != new_email
    connector.auto_change_email = True
    connector.save()
    SyncCursor.objects.update(watermark=timezone.now() - dt.timedelta(seconds=30))
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.email == new_email


def test_new_leads_create_prospects_when_auto_create_is_on(connector, sf, unique_email):
    campaign = CampaignFactory(name="From Salesforce")
    connector.auto_create_prospects = True
    connector.auto_create_campaign = campaign
    connector.save()
    SyncCursor.objects.create(connector=connector, sobject="Lead", watermark=timezone.now())
    SyncCursor.objects.create(connector=connector, sobject="Contact", watermark=timezone.now())
    email = unique_email("new")
    lead = sf.Lead.create({"LastName": "Fresh", "Company": "Hooli", "Email": email})
    report = pull_changes(connector=connector)
    prospect = Prospect.objects.get(email=email)
    assert (prospect.crm_lead_id, prospect.last_name, prospect.company) == (
        lead["id"],
        "Fresh",
        "Hooli",
    )
    assert prospect.campaign == campaign and report.created >= 1
    pull_changes(connector=connector)  # the overlap window sees it again: no duplicate
    assert Prospect.objects.filter(email=email).count() == 1


def test_new_leads_are_ignored_without_auto_create(connector, sf, unique_email):
    SyncCursor.objects.create(connector=connector, sobject="Lead", watermark=timezone.now())
    email = unique_email("ignored")
    sf.Lead.create({"LastName": "Nobody", "Company": "X", "Email": email})
    pull_changes(connector=connector)
    assert not Prospect.objects.filter(email=email).exists()


@pytest.fixture
def restored_org(sandbox_org):
    """For tests that change the demo org beyond their own records (a conversion): reload it."""
    yield sandbox_org
    sandbox_org.reset()


def test_lead_conversion_moves_the_prospect_to_the_contact(connector, restored_org, synced):
    sandbox_org = restored_org
    made = sandbox_org.control("convert_lead", lead_id=synced.crm_lead_id)
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.crm_contact_id == made["contact"] and synced.crm_lead_id  # history kept
    assert synced.sync_history.filter(operation="convert").exists()
    # From now on pushes go to the contact.
    synced.job_title = "After conversion"
    synced.stamp_changes(["job_title"])
    synced.save()
    push_prospects(connector=connector, prospect_ids=[synced.pk])
    assert sandbox_org.admin().Contact.get(made["contact"])["Title"] == "After conversion"


def test_delete_archives_and_undelete_restores(connector, sf, sandbox_org, synced):
    sf.Lead.delete(synced.crm_lead_id)
    report = pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.archived_at is not None and report.archived == 1
    sandbox_org.control("undelete", record_id=synced.crm_lead_id)
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.archived_at is None


def test_delete_is_ignored_when_the_setting_is_off(connector, sf, synced):
    connector.delete_with_crm = False
    connector.save()
    sf.Lead.delete(synced.crm_lead_id)
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.archived_at is None


def test_merge_moves_the_prospect_to_the_surviving_record(connector, sf, sandbox_org, synced):
    survivor = sf.Lead.create({"LastName": "Survivor", "Company": "Initech"})
    sandbox_org.control("merge", master_id=survivor["id"], duplicate_ids=[synced.crm_lead_id])
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.crm_lead_id == survivor["id"] and synced.archived_at is None


def test_data_sharing_rule_excludes_and_recycles(connector, sf, synced):
    DataSharingRule.objects.create(
        connector=connector, sobject="Lead", field="Region__c", value="EMEA"
    )
    sf.Lead.update(synced.crm_lead_id, {"Region__c": "AMER", "Title": "Not shared"})
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.archived_at is not None and synced.job_title != "Not shared"
    sf.Lead.update(synced.crm_lead_id, {"Region__c": "EMEA"})
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.archived_at is None


def test_records_hidden_from_the_connector_user_do_not_sync(connector, sandbox_org, unique_email):
    connector.auto_create_prospects = True
    connector.save()
    SyncCursor.objects.create(connector=connector, sobject="Lead", watermark=timezone.now())
    sandbox_org.control("set_sharing", sobject="Lead", model="Private")
    try:
        bella = sandbox_org.salesforce("bella@acme.example", "sales-demo-1")
        email = unique_email("hidden")
        bella.Lead.create({"LastName": "Hidden", "Company": "B Corp", "Email": email})
        pull_changes(connector=connector)
        assert not Prospect.objects.filter(email=email).exists()
    finally:
        sandbox_org.control("set_sharing", sobject="Lead", model="ReadWrite")


def queue_id(sf, developer_name: str = "Inbound_Leads") -> str:
    rows = sf.query(f"SELECT Id FROM Group WHERE DeveloperName = '{developer_name}'")["records"]
    return rows[0]["Id"]


def test_a_lead_moved_to_a_queue_is_assigned_to_that_queue(connector, sf, synced, owner):
    inbound = queue_id(sf)
    assert not CrmQueue.objects.filter(sf_id=inbound).exists()  # not mirrored yet
    sf.Lead.update(synced.crm_lead_id, {"OwnerId": inbound})
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.assigned_queue.sf_id == inbound and synced.assigned_user is None
    assert (synced.assigned_queue.name, synced.assigned_queue.developer_name) == (
        "Inbound Leads",
        "Inbound_Leads",
    )
    assert synced.sync_history.first().changes[-1] == {
        "field": "assigned_queue",
        "new": inbound,
        "rule": "salesforce",
    }


def test_a_mirrored_queue_is_reused_and_a_user_owner_clears_the_queue(connector, sf, synced, owner):
    inbound = queue_id(sf)
    mirrored = CrmQueue.objects.create(sf_id=inbound, name="Inbound Leads")
    sf.Lead.update(synced.crm_lead_id, {"OwnerId": inbound})
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.assigned_queue == mirrored and CrmQueue.objects.count() == 1
    bella = UserFactory(username="bella", email="bella@acme.example")
    bella_sf = sf.query("SELECT Id FROM User WHERE Username = 'bella@acme.example'")["records"][0]
    sf.Lead.update(synced.crm_lead_id, {"OwnerId": bella_sf["Id"]})
    SyncCursor.objects.update(watermark=timezone.now() - dt.timedelta(seconds=30))
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.assigned_user == bella and synced.assigned_queue is None


def test_owners_are_looked_up_once_per_chunk_not_per_record(
    connector, sf, sf_client, owner, unique_email
):
    prospects = [ProspectFactory(email=unique_email(), assigned_user=owner) for _ in range(3)]
    push_prospects(connector=connector, prospect_ids=[p.pk for p in prospects])
    SyncCursor.objects.create(
        connector=connector, sobject="Lead", watermark=timezone.now() - dt.timedelta(seconds=5)
    )
    SyncCursor.objects.create(connector=connector, sobject="Contact", watermark=timezone.now())
    bella_sf = sf.query("SELECT Id FROM User WHERE Username = 'bella@acme.example'")["records"][0]
    for prospect in Prospect.objects.filter(pk__in=[p.pk for p in prospects]):
        sf.Lead.update(prospect.crm_lead_id, {"OwnerId": bella_sf["Id"]})
    bella = UserFactory(username="bella", email="bella@acme.example")
    asked = []
    query_all = sf_client.query_all
    sf_client.query_all = lambda soql, **kw: asked.append(soql) or query_all(soql, **kw)
    pull_changes(connector=connector, client=sf_client)
    owners = Prospect.objects.filter(pk__in=[p.pk for p in prospects])
    assert set(owners.values_list("assigned_user", flat=True)) == {bella.pk}
    assert len([soql for soql in asked if "FROM User" in soql]) == 1


@pytest.mark.parametrize(
    "behaviour", [FieldRule.Behaviour.LEADBRIDGE, FieldRule.Behaviour.MOST_RECENT]
)
def test_a_value_cut_to_fit_here_is_never_sent_back_cut(connector, sf, synced, behaviour):
    """Salesforce's text longer than the prospect field holds is stored cut (a pull cannot
    refuse it); the cut value is no change of ours, so a later push leaves Salesforce's whole
    text alone, whoever wins the field."""
    CustomField.objects.create(label="Notes", api_name="notes", type=CustomField.Type.TEXT)
    FieldRule.objects.filter(connector=connector, lead_field="Description").update(lead_field="")
    FieldRule.objects.create(
        connector=connector,
        prospect_field="custom:notes",
        lead_field="Description",
        behaviour=behaviour,
    )
    whole = "A long note from sales. " * 20  # 480 characters; the field holds 255
    sf.Lead.update(synced.crm_lead_id, {"Description": whole})
    pull_changes(connector=connector)
    synced.refresh_from_db()
    assert synced.custom_fields["notes"] == whole[:255]
    pulled = synced.sync_history.count()

    synced.job_title = "Head of Widgets"  # a marketer's later edit of another field
    synced.stamp_changes(["job_title"])
    synced.save()
    push_prospects(connector=connector, prospect_ids=[synced.pk])

    record = sf.Lead.get(synced.crm_lead_id)
    assert record["Description"] == whole and record["Title"] == "Head of Widgets"
    sent = synced.sync_history.all()[: synced.sync_history.count() - pulled]
    assert [c["field"] for entry in sent for c in entry.changes] == ["job_title"]
    pull_changes(connector=connector)  # and the next pull finds nothing to change here
    synced.refresh_from_db()
    assert synced.custom_fields["notes"] == whole[:255]
