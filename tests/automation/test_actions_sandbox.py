"""The action set against the sandbox org: what an action asks for reaches Salesforce after
the engine's push (the queue's owner, the campaign member, a field, a recreated lead)."""

import uuid

import pytest

from automation.actions import Source, apply_actions, parse_actions
from crm.models import CampaignMembership, MembershipState, SalesforceCampaign
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import CrmQueue, Prospect, SyncStatus
from sync.engine import campaigns as engine
from sync.engine.outbound import push_prospects
from sync.jobs import push_pending
from sync.owner_queues import refresh_queues

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return UserFactory(username="alice", email="alice@acme.example")


@pytest.fixture
def campaign(connector, sf, sf_client):
    sf_id = sf.Campaign.create({"Name": f"Actions {uuid.uuid4().hex[:8]}", "IsActive": True})["id"]
    engine.pull_campaigns(connector=connector, client=sf_client)
    return SalesforceCampaign.objects.get(sf_id=sf_id)


def lead_of(sf, prospect):
    return sf.Lead.get(Prospect.objects.get(pk=prospect.pk).crm_lead_id)


def test_assign_to_queue_and_add_to_a_salesforce_campaign_reach_the_org(
    connector, sf, sf_client, campaign, unique_email
):
    """The issue's "done when", minus the rule: an unassigned prospect assigned to a queue is
    created owned by the queue, and becomes a member of the campaign with the status."""
    refresh_queues(sf_client)
    queue = CrmQueue.objects.get(name="Inbound Leads")
    prospect = ProspectFactory(email=unique_email(), assigned_user=None)
    actions = parse_actions(
        [
            {"type": "assign_queue", "queue": queue.pk},
            {"type": "add_to_sf_campaign", "campaign": campaign.pk, "status": "Responded"},
            {"type": "set_field", "field": "job_title", "value": "Head of Automation"},
        ]
    )
    result = apply_actions(actions, [prospect.pk], actor=None, source=Source.RULE)
    assert result.changed == 1 and result.queued == 1
    push_pending(connector.pk)  # the prospect, then its pending memberships
    engine.push_memberships(connector=connector, client=sf_client)
    lead = lead_of(sf, prospect)
    assert lead["OwnerId"] == queue.sf_id and lead["Title"] == "Head of Automation"
    members = sf.query_all(
        f"SELECT LeadId, Status FROM CampaignMember WHERE CampaignId = '{campaign.sf_id}'"
    )["records"]
    assert [(m["LeadId"], m["Status"]) for m in members] == [(lead["Id"], "Responded")]
    membership = CampaignMembership.objects.get(prospect=prospect, campaign=campaign)
    assert membership.state == MembershipState.SYNCED


def test_do_not_sync_keeps_a_change_out_of_salesforce(connector, sf, owner, unique_email):
    prospect = ProspectFactory(email=unique_email(), assigned_user=owner, job_title="Before")
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    apply_actions(
        parse_actions(
            [{"type": "do_not_sync"}, {"type": "set_field", "field": "job_title", "value": "After"}]
        ),
        [prospect.pk],
        actor=owner,
    )
    push_pending(connector.pk)
    assert lead_of(sf, prospect)["Title"] == "Before"
    assert Prospect.objects.get(pk=prospect.pk).sync_status == SyncStatus.DO_NOT_SYNC


def test_allow_recreate_makes_a_new_lead_for_a_deleted_one(connector, sf, owner, unique_email):
    prospect = ProspectFactory(email=unique_email(), assigned_user=owner)
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    old = Prospect.objects.get(pk=prospect.pk).crm_lead_id
    sf.Lead.delete(old)
    apply_actions(parse_actions([{"type": "sync_now"}]), [prospect.pk], actor=owner)
    push_pending(connector.pk)  # the engine records ENTITY_IS_DELETED: not recreated
    assert Prospect.objects.get(pk=prospect.pk).crm_lead_id == old
    admin = UserFactory(username="admin-recreate")
    result = apply_actions(parse_actions([{"type": "allow_recreate"}]), [prospect.pk], actor=admin)
    assert result.changed == 1
    push_pending(connector.pk)
    new = Prospect.objects.get(pk=prospect.pk).crm_lead_id
    assert new and new != old and sf.Lead.get(new)["Email"] == prospect.email
