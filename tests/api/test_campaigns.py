"""Salesforce campaigns through the API: the writes' campaign fields, a prospect's
memberships, the campaigns a client picks from, and what Salesforce would refuse."""

import uuid

import pytest
from django.utils import timezone

from crm.models import CampaignMembership, MembershipState
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect, SyncHistory
from sync.jobs import pull
from tests.crm.factories import MembershipFactory, SalesforceCampaignFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/prospects/"


@pytest.fixture
def campaign():
    return SalesforceCampaignFactory(name="Webinar", sf_id="701000000000001AAA")


def members(campaign):
    return dict(
        CampaignMembership.objects.filter(campaign=campaign).values_list(
            "prospect__email", "status"
        )
    )


def test_an_upsert_with_a_campaign_adds_the_prospect_pending(api, campaign, marketer):
    body = {
        "email": "new@example.com",
        "salesforce_campaign": campaign.pk,
        "campaign_member_status": "Responded",
    }
    response = api.post(URL + "upsert/", body, format="json")
    assert response.status_code == 201, response.json()
    membership = CampaignMembership.objects.get(campaign=campaign)
    assert membership.status == "Responded" and membership.has_responded
    assert membership.state == MembershipState.PENDING and membership.added_by == marketer
    assert "salesforce_campaign" not in response.json()  # write-only
    assert SyncHistory.objects.filter(
        prospect=membership.prospect, operation="campaign", actor=marketer
    ).exists()


def test_the_campaign_is_named_by_its_salesforce_id_too_15_or_18(api, campaign):
    prospect = ProspectFactory()
    for sf_id in ("701000000000001", "701000000000001AAA"):
        response = api.patch(f"{URL}{prospect.pk}/", {"salesforce_campaign": sf_id}, format="json")
        assert response.status_code == 200, response.json()
    assert members(campaign) == {prospect.email: "Sent"}  # the default status


def test_create_and_batch_add_their_prospects(api, campaign):
    response = api.post(
        URL, {"email": "c@example.com", "salesforce_campaign": campaign.pk}, format="json"
    )
    assert response.status_code == 201
    existing = ProspectFactory(email="b@example.com")
    MembershipFactory(campaign=campaign, prospect=existing, status="Responded")
    body = {
        "salesforce_campaign": campaign.sf_id,
        "prospects": [{"email": "a@example.com"}, {"email": "b@example.com"}, {"email": "bad"}],
    }
    result = api.post(URL + "batch/", body, format="json").json()
    assert [r["outcome"] for r in result["results"]] == ["created", "unchanged", "failed"]
    # No status given: new members take the default, an existing one keeps its own.
    assert members(campaign) == {
        "c@example.com": "Sent",
        "a@example.com": "Sent",
        "b@example.com": "Responded",
    }


def test_a_batch_row_cannot_name_its_own_campaign(api, campaign):
    body = {"prospects": [{"email": "a@example.com", "salesforce_campaign": campaign.pk}]}
    result = api.post(URL + "batch/", body, format="json").json()
    assert result["results"][0]["outcome"] == "failed"
    assert result["results"][0]["errors"][0]["field"] == "salesforce_campaign"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"is_active": False}, "salesforce_campaign", "inactive"),
        ({"deleted_at": timezone.now()}, "salesforce_campaign", "deleted in Salesforce"),
        ({}, "campaign_member_status", "not a member status"),
    ],
)
def test_what_salesforce_would_refuse_is_refused_and_nothing_is_written(
    api, campaign, change, field, words
):
    for name, value in change.items():
        setattr(campaign, name, value)
    campaign.save()
    body = {
        "email": "x@example.com",
        "salesforce_campaign": campaign.pk,
        "campaign_member_status": "" if change else "Attended",
    }
    response = api.post(URL + "upsert/", body, format="json")
    assert response.status_code == 400
    assert words in response.json()[field][0]
    assert not CampaignMembership.objects.exists()
    assert not Prospect.objects.filter(email="x@example.com").exists()


def test_an_unknown_campaign_or_a_status_alone_is_refused(api, campaign):
    prospect = ProspectFactory()
    for body, field in (
        ({"salesforce_campaign": 999999}, "salesforce_campaign"),
        ({"salesforce_campaign": "701999999999999AAA"}, "salesforce_campaign"),
        ({"salesforce_campaign": "00Q000000000001AAA"}, "salesforce_campaign"),
        ({"salesforce_campaign": True}, "salesforce_campaign"),
        ({"campaign_member_status": "Sent"}, "campaign_member_status"),
    ):
        response = api.patch(f"{URL}{prospect.pk}/", body, format="json")
        assert response.status_code == 400 and field in response.json(), body


def test_a_prospects_campaigns_are_listed_and_one_is_added(api, campaign):
    prospect = ProspectFactory()
    url = f"{URL}{prospect.pk}/campaigns/"
    assert api.get(url).json() == []
    response = api.post(url, {"salesforce_campaign": campaign.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "Sent" and response.json()["state"] == "pending"
    response = api.post(
        url,
        {"salesforce_campaign": campaign.sf_id, "campaign_member_status": "Responded"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "Responded"
    (listed,) = api.get(url).json()
    assert listed["campaign_name"] == "Webinar" and listed["salesforce_campaign"] == campaign.pk
    response = api.post(
        url, {"salesforce_campaign": campaign.pk, "campaign_member_status": "Nope"}, format="json"
    )
    assert response.status_code == 400
    assert "its statuses: Sent, Responded" in response.json()["campaign_member_status"][0]


def test_the_campaigns_a_client_picks_from_show_their_statuses(api, campaign):
    body = api.get("/api/v1/salesforce-campaigns/").json()
    (row,) = body["results"]
    assert row["sf_id"] == campaign.sf_id
    assert [s["label"] for s in row["member_statuses"]] == ["Sent", "Responded"]


def test_an_upsert_with_a_campaign_becomes_a_member_in_the_org(
    connector, sf, api, run_jobs, unique_email, django_capture_on_commit_callbacks
):
    owner = UserFactory(username="alice", email="alice@acme.example")
    name = f"API campaign {uuid.uuid4().hex[:6]}"
    campaign_id = sf.Campaign.create({"Name": name, "IsActive": True})["id"]
    pull(connector.pk)
    body = {
        "email": unique_email(),
        "last_name": "Doe",
        "assigned_user": owner.pk,
        "salesforce_campaign": campaign_id,
        "campaign_member_status": "Responded",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL + "upsert/", body, format="json")
    assert response.status_code == 201, response.json()
    run_jobs("sync")  # the prospect's push, then the member push
    prospect = Prospect.objects.get(pk=response.json()["id"])
    assert prospect.crm_lead_id
    members = sf.query(
        f"SELECT LeadId, Status FROM CampaignMember WHERE CampaignId = '{campaign_id}'"
    )["records"]
    assert [(m["LeadId"], m["Status"]) for m in members] == [(prospect.crm_lead_id, "Responded")]
    (listed,) = api.get(f"{URL}{prospect.pk}/campaigns/").json()
    assert listed["state"] == "synced" and listed["sf_member_id"]
