"""Salesforce campaigns and members through the sandbox org: the pull mirrors them, the push
writes the portal's memberships (sync/engine/campaigns.py)."""

import uuid

import pytest

from crm.memberships import CampaignError, add_to_campaign, change_status
from crm.models import CampaignMembership, MembershipState, SalesforceCampaign
from prospects.factories import ProspectFactory, UserFactory
from sync.engine import campaigns as engine
from sync.engine.inbound import pull_changes
from sync.engine.outbound import push_prospects
from sync.models import SyncError

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return UserFactory(username="alice", email="alice@acme.example")


@pytest.fixture
def campaign_sf_id(sf):
    """A new active campaign in the org (with Salesforce's Sent/Responded statuses)."""
    return sf.Campaign.create({"Name": f"Test {uuid.uuid4().hex[:8]}", "IsActive": True})["id"]


@pytest.fixture
def campaign(connector, sf_client, campaign_sf_id):
    engine.pull_campaigns(connector=connector, client=sf_client)
    return SalesforceCampaign.objects.get(sf_id=campaign_sf_id)


@pytest.fixture
def synced(connector, owner, unique_email):
    prospect = ProspectFactory(email=unique_email(), assigned_user=owner, company="Initech")
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    assert prospect.crm_lead_id
    return prospect


def members_of(sf, campaign_sf_id):
    return sf.query_all(
        f"SELECT Id, LeadId, ContactId, Status, HasResponded FROM CampaignMember "
        f"WHERE CampaignId = '{campaign_sf_id}'"
    )["records"]


def test_the_pull_mirrors_campaigns_and_their_member_statuses(connector, sf_client, sf):
    sf_id = sf.Campaign.create(
        {"Name": "Mirror me", "IsActive": True, "Type": "Webinar", "BudgetedCost": 1200}
    )["id"]
    report = engine.pull_campaigns(connector=connector, client=sf_client)
    campaign = SalesforceCampaign.objects.get(sf_id=sf_id)
    assert campaign.name == "Mirror me" and campaign.type == "Webinar" and campaign.is_active
    assert campaign.budgeted_cost == 1200
    assert [(s.label, s.is_default, s.has_responded) for s in campaign.member_statuses.all()] == [
        ("Sent", True, False),
        ("Responded", False, True),
    ]
    # The demo org's eight campaigns, each with Sent/Responded/Registered.
    webinar = SalesforceCampaign.objects.get(name="Spring Webinar")
    assert webinar.status_labels() == ["Sent", "Responded", "Registered"]
    assert report.counts["campaigns"] >= 9


def test_a_member_added_in_salesforce_comes_back_with_its_status(
    connector, sf, sf_client, campaign, synced
):
    sf.CampaignMember.create(
        {"CampaignId": campaign.sf_id, "LeadId": synced.crm_lead_id, "Status": "Responded"}
    )
    pull_changes(connector=connector, client=sf_client)
    membership = CampaignMembership.objects.get(prospect=synced, campaign=campaign)
    assert membership.status == "Responded" and membership.has_responded
    assert membership.state == MembershipState.SYNCED and membership.sf_member_id
    campaign.refresh_from_db()
    assert campaign.member_count == 1 and campaign.status_counts == {"Responded": 1}
    assert "Added to Salesforce campaign" in synced.sync_history.first().message


def test_adding_a_synced_prospect_creates_the_member(connector, sf, sf_client, campaign, synced):
    marketer = UserFactory(username="mia")
    assert add_to_campaign([synced.pk], campaign, "Responded", actor=marketer) == 1
    report = engine.push_memberships(connector=connector, client=sf_client)
    assert report.counts["synced"] == 1
    [member] = members_of(sf, campaign.sf_id)
    assert member["LeadId"] == synced.crm_lead_id and member["Status"] == "Responded"
    assert member["HasResponded"] is True
    membership = CampaignMembership.objects.get(prospect=synced)
    assert membership.state == MembershipState.SYNCED and membership.sf_member_id == member["Id"]
    assert synced.sync_history.filter(actor=marketer, operation="campaign").exists()


def test_an_unsynced_prospect_is_added_once_it_syncs(connector, sf, campaign, owner, unique_email):
    from sync.jobs import push_pending

    prospect = ProspectFactory(email=unique_email(), assigned_user=owner)
    add_to_campaign([prospect.pk], campaign)
    membership = CampaignMembership.objects.get(prospect=prospect)
    assert membership.state == MembershipState.PENDING and membership.status == "Sent"
    assert engine.claim() == []  # nothing to send: no lead or contact yet
    from prospects.sync_requests import request_sync

    request_sync(prospect, "field_update")
    push_pending(connector.pk)
    prospect.refresh_from_db()
    [member] = members_of(sf, campaign.sf_id)
    assert member["LeadId"] == prospect.crm_lead_id and member["Status"] == "Sent"
    membership.refresh_from_db()
    assert membership.state == MembershipState.SYNCED


def test_status_changes_go_both_ways(connector, sf, sf_client, campaign, synced):
    add_to_campaign([synced.pk], campaign)
    engine.push_memberships(connector=connector, client=sf_client)
    membership = CampaignMembership.objects.get(prospect=synced)
    assert change_status(membership, "Responded")
    engine.push_memberships(connector=connector, client=sf_client)
    assert sf.CampaignMember.get(membership.sf_member_id)["Status"] == "Responded"

    sf.CampaignMember.update(membership.sf_member_id, {"Status": "Sent"})
    engine.pull_campaigns(connector=connector, client=sf_client)
    membership.refresh_from_db()
    assert membership.status == "Sent" and not membership.has_responded


def test_a_pending_local_status_is_not_overwritten_by_the_pull(
    connector, sf, sf_client, campaign, synced
):
    add_to_campaign([synced.pk], campaign)
    engine.push_memberships(connector=connector, client=sf_client)
    membership = CampaignMembership.objects.get(prospect=synced)
    sf.CampaignMember.update(membership.sf_member_id, {"Status": "Responded"})
    change_status(membership, "Sent")  # unchanged here: nothing to send
    membership.refresh_from_db()
    CampaignMembership.objects.filter(pk=membership.pk).update(
        status="Responded", state=MembershipState.PENDING
    )
    sf.CampaignMember.update(membership.sf_member_id, {"Status": "Sent"})
    engine.pull_campaigns(connector=connector, client=sf_client)
    membership.refresh_from_db()
    assert membership.status == "Responded" and membership.state == MembershipState.PENDING
    engine.push_memberships(connector=connector, client=sf_client)
    assert sf.CampaignMember.get(membership.sf_member_id)["Status"] == "Responded"


def test_a_member_deleted_in_salesforce_leaves_the_portal(
    connector, sf, sf_client, campaign, synced
):
    add_to_campaign([synced.pk], campaign)
    engine.push_memberships(connector=connector, client=sf_client)
    membership = CampaignMembership.objects.get(prospect=synced)
    sf.CampaignMember.delete(membership.sf_member_id)
    engine.pull_campaigns(connector=connector, client=sf_client)
    assert not CampaignMembership.objects.filter(prospect=synced).exists()
    assert "Removed from Salesforce campaign" in synced.sync_history.first().message


def test_a_member_salesforce_already_has_is_adopted_not_duplicated(
    connector, sf, sf_client, campaign, synced
):
    existing = sf.CampaignMember.create(
        {"CampaignId": campaign.sf_id, "LeadId": synced.crm_lead_id, "Status": "Sent"}
    )["id"]
    add_to_campaign([synced.pk], campaign, "Sent")
    report = engine.push_memberships(connector=connector, client=sf_client)
    assert report.counts["adopted"] == 1
    membership = CampaignMembership.objects.get(prospect=synced)
    assert membership.sf_member_id == existing and membership.state == MembershipState.SYNCED
    assert len(members_of(sf, campaign.sf_id)) == 1
    assert not SyncError.objects.exists()


def test_many_new_members_go_in_one_bulk_job(
    connector, sf, sf_client, campaign, owner, unique_email, monkeypatch
):
    monkeypatch.setattr(engine, "BULK_MIN", 3)
    prospects = [ProspectFactory(email=unique_email(), assigned_user=owner) for _ in range(5)]
    push_prospects(connector=connector, prospect_ids=[p.pk for p in prospects])
    add_to_campaign([p.pk for p in prospects], campaign, "Responded")
    report = engine.push_memberships(connector=connector, client=sf_client)
    assert report.counts["bulk_jobs"] == 1 and report.counts["synced"] == 5
    members = members_of(sf, campaign.sf_id)
    assert len(members) == 5 and {m["Status"] for m in members} == {"Responded"}
    assert CampaignMembership.objects.filter(state=MembershipState.SYNCED).count() == 5


# -- bad input ------------------------------------------------------------------------------------


def test_a_status_the_campaign_does_not_have_is_refused_with_its_statuses(campaign, synced):
    with pytest.raises(CampaignError, match="“Attended” is not a member status of") as caught:
        add_to_campaign([synced.pk], campaign, "Attended")
    assert "Sent, Responded" in str(caught.value)
    assert not CampaignMembership.objects.exists()


def test_a_status_removed_in_salesforce_meanwhile_is_a_campaign_member_sync_error(
    connector, sf, sf_client, campaign, synced
):
    add_to_campaign([synced.pk], campaign, "Responded")
    responded = sf.query(
        f"SELECT Id FROM CampaignMemberStatus WHERE CampaignId = '{campaign.sf_id}' "
        "AND Label = 'Responded'"
    )["records"][0]["Id"]
    sf.CampaignMemberStatus.delete(responded)
    report = engine.push_memberships(connector=connector, client=sf_client)
    assert report.counts["refused"] == 1
    membership = CampaignMembership.objects.get(prospect=synced)
    assert membership.state == MembershipState.ERROR
    assert "bad value for restricted picklist field: Responded" in membership.error_message
    error = SyncError.objects.get()
    assert error.sobject == "CampaignMember" and error.campaign_membership == membership
    assert error.error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert error.category == "data_formatting" and error.prospect == synced
    synced.refresh_from_db()
    assert synced.sync_status != "error"  # the prospect itself synced fine
    # The pull drops the status; picking one the campaign has sends it and clears the error.
    engine.pull_campaigns(connector=connector, client=sf_client)
    membership.refresh_from_db()
    change_status(membership, "Sent")
    engine.push_memberships(connector=connector, client=sf_client)
    error.refresh_from_db()
    assert error.resolved_at is not None
    membership.refresh_from_db()
    assert membership.state == MembershipState.SYNCED


def test_a_campaign_deleted_in_salesforce_is_marked_and_takes_no_members(
    connector, sf, sf_client, campaign, synced, unique_email, owner
):
    add_to_campaign([synced.pk], campaign)
    engine.push_memberships(connector=connector, client=sf_client)
    waiting = ProspectFactory(email=unique_email(), assigned_user=owner)
    add_to_campaign([waiting.pk], campaign)
    sf.Campaign.delete(campaign.sf_id)
    engine.pull_campaigns(connector=connector, client=sf_client)
    campaign.refresh_from_db()
    assert campaign.is_deleted
    for membership in CampaignMembership.objects.filter(campaign=campaign):
        assert membership.state == MembershipState.ERROR  # kept, saying why
        assert "was deleted in Salesforce" in membership.error_message
    with pytest.raises(CampaignError, match="was deleted in Salesforce"):
        add_to_campaign([waiting.pk], campaign)


def test_a_campaign_deleted_before_the_pull_saw_it_is_a_sync_error(
    connector, sf, sf_client, campaign, synced
):
    add_to_campaign([synced.pk], campaign)
    sf.Campaign.delete(campaign.sf_id)
    engine.push_memberships(connector=connector, client=sf_client)
    membership = CampaignMembership.objects.get(prospect=synced)
    assert membership.state == MembershipState.ERROR
    assert "was deleted in Salesforce" in membership.error_message
    assert SyncError.objects.get().error_code == "ENTITY_IS_DELETED"


def test_an_inactive_campaign_takes_no_members_from_the_portal(
    connector, sf, sf_client, campaign, synced
):
    sf.Campaign.update(campaign.sf_id, {"IsActive": False})
    engine.pull_campaigns(connector=connector, client=sf_client)
    campaign.refresh_from_db()
    with pytest.raises(CampaignError, match="is inactive"):
        add_to_campaign([synced.pk], campaign)


def test_resync_of_a_campaign_member_error_sends_the_member_again(
    connector, sf, sf_client, campaign, synced, run_jobs, django_capture_on_commit_callbacks
):
    from sync.errors.resync import resync_error, resync_state

    add_to_campaign([synced.pk], campaign, "Responded")
    responded = sf.query(
        f"SELECT Id FROM CampaignMemberStatus WHERE CampaignId = '{campaign.sf_id}' "
        "AND Label = 'Responded'"
    )["records"][0]["Id"]
    sf.CampaignMemberStatus.delete(responded)
    engine.push_memberships(connector=connector, client=sf_client)
    error = SyncError.objects.get(sobject="CampaignMember")
    assert resync_state(error=error).state == "failed"
    # The admin puts the status back in Salesforce; the marketer resyncs the row.
    sf.CampaignMemberStatus.create(
        {"CampaignId": campaign.sf_id, "Label": "Responded", "HasResponded": True, "SortOrder": 3}
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = resync_error(error=error)
    assert result.state == "queued"
    run_jobs("sync")
    assert resync_state(error=error).state == "cleared"
    error.refresh_from_db()
    assert error.resolved_at is not None
    [member] = members_of(sf, campaign.sf_id)
    assert member["Status"] == "Responded"


def test_an_adopted_member_with_another_status_gets_the_portals(
    connector, sf, sf_client, campaign, synced
):
    existing = sf.CampaignMember.create(
        {"CampaignId": campaign.sf_id, "LeadId": synced.crm_lead_id, "Status": "Sent"}
    )["id"]
    add_to_campaign([synced.pk], campaign, "Responded")
    engine.push_memberships(connector=connector, client=sf_client)
    assert sf.CampaignMember.get(existing)["Status"] == "Responded"
    membership = CampaignMembership.objects.get(prospect=synced)
    assert membership.sf_member_id == existing and membership.state == MembershipState.SYNCED


def test_a_campaign_member_error_opens_on_the_sync_errors_pages(
    connector, sf, sf_client, campaign, synced, marketer_client
):
    from django.urls import reverse

    add_to_campaign([synced.pk], campaign, "Responded")
    responded = sf.query(
        f"SELECT Id FROM CampaignMemberStatus WHERE CampaignId = '{campaign.sf_id}' "
        "AND Label = 'Responded'"
    )["records"][0]["Id"]
    sf.CampaignMemberStatus.delete(responded)
    engine.push_memberships(connector=connector, client=sf_client)
    error = SyncError.objects.get()
    listing = marketer_client.get(reverse("sync:errors")).content.decode()
    assert "CampaignMember" in listing
    detail = marketer_client.get(reverse("sync:error_detail", args=[error.pk]))
    assert detail.status_code == 200
    assert "bad value for restricted picklist field" in detail.content.decode()


def test_an_idle_campaign_pull_costs_two_api_calls(connector, campaign):
    from sync.salesforce import Client

    report = engine.pull_campaigns(connector=connector, client=Client.for_connector(connector))
    assert report.api_calls == 2  # changed and deleted, three objects each in one Composite
