"""Issue 15's first "Done when": in the sandbox org, a lead added to a campaign by the org's admin
shows on the prospect page at the next pull with its status; a prospect added to a campaign in
the portal becomes a CampaignMember in the org."""

import uuid

import pytest
from django.urls import reverse

from crm.models import SalesforceCampaign
from prospects.factories import ProspectFactory, UserFactory
from sync.engine.outbound import push_prospects
from sync.jobs import pull

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(connector, unique_email):
    owner = UserFactory(username="alice", email="alice@acme.example")
    prospect = ProspectFactory(email=unique_email(), assigned_user=owner)
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    assert prospect.crm_lead_id
    return prospect


def test_a_member_added_in_the_org_shows_on_the_prospect_page_at_the_next_pull(
    connector, sf, synced, marketer_client
):
    campaign_id = sf.query("SELECT Id FROM Campaign WHERE Name = 'Spring Webinar'")["records"][0][
        "Id"
    ]
    sf.CampaignMember.create(
        {"CampaignId": campaign_id, "LeadId": synced.crm_lead_id, "Status": "Registered"}
    )
    pull(connector.pk)  # the cron's pull job
    page = marketer_client.get(reverse("prospects:detail", args=[synced.pk])).content.decode()
    card = page[page.index('id="salesforce-campaigns"') :]
    assert "Spring Webinar" in card and "Registered" in card and "synced" in card


def test_a_prospect_added_in_the_portal_becomes_a_member_in_the_org(
    connector, sf, synced, marketer_client, run_jobs, django_capture_on_commit_callbacks
):
    name = f"Done-when {uuid.uuid4().hex[:6]}"
    campaign_id = sf.Campaign.create({"Name": name, "IsActive": True})["id"]
    pull(connector.pk)
    campaign = SalesforceCampaign.objects.get(sf_id=campaign_id)
    with django_capture_on_commit_callbacks(execute=True):
        marketer_client.post(
            reverse("crm:prospect_add", args=[synced.pk]),
            {"campaign_status": f"{campaign.pk}::Responded"},
        )
    run_jobs("sync")  # the member push the add woke
    members = sf.query(
        "SELECT LeadId, Status, HasResponded FROM CampaignMember "
        f"WHERE CampaignId = '{campaign_id}'"
    )["records"]
    assert [(m["LeadId"], m["Status"], m["HasResponded"]) for m in members] == [
        (synced.crm_lead_id, "Responded", True)
    ]
    page = marketer_client.get(reverse("prospects:detail", args=[synced.pk])).content.decode()
    assert name in page and "synced" in page[page.index('id="salesforce-campaigns"') :]
