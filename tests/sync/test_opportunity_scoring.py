"""Opportunities move scores (created +50, lost -100 by default, as the Scoring page says) once
per event and linked prospect, and filter the prospect list by stage and outcome."""

import pytest
from django.urls import reverse

from crm.models import OpportunityEvent
from prospects.factories import ProspectFactory
from prospects.models import Activity, ActivityType, ScoringRule, SyncQueueItem
from sync.engine.opportunities import pull_opportunities

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(sf, unique_email):
    """A fresh contact with an open opportunity on which it has two roles."""
    account = sf.Account.create({"Name": "Scoring Deals Inc"})["id"]
    contact = sf.Contact.create(
        {"LastName": "Buyer", "Email": unique_email(), "AccountId": account}
    )["id"]
    opportunity = sf.Opportunity.create(
        {
            "Name": "Scoring <i>deal</i>",
            "AccountId": account,
            "StageName": "Qualification",
            "CloseDate": "2027-03-31",
            "Amount": 12000,
        }
    )["id"]
    for role in ("Decision Maker", "Economic Buyer"):
        sf.OpportunityContactRole.create(
            {"OpportunityId": opportunity, "ContactId": contact, "Role": role}
        )
    yield {"contact": contact, "opportunity": opportunity}
    sf.Opportunity.delete(opportunity)


def activities(prospect, kind):
    return Activity.objects.filter(prospect=prospect, type=kind)


def test_an_opportunity_scores_once_when_created_and_once_when_lost(connector, sf, deal):
    prospect = ProspectFactory(crm_contact_id=deal["contact"], score=0)
    bystander = ProspectFactory(score=0)
    report = pull_opportunities(connector=connector)
    prospect.refresh_from_db()
    assert report.scored == 1  # two roles, one prospect: one event
    assert prospect.score == 50
    [created] = activities(prospect, ActivityType.OPPORTUNITY_CREATED)
    assert created.points == 50
    assert created.details["Opportunity"] == "Scoring <i>deal</i>"
    pull_opportunities(connector=connector)  # a re-pull scores nothing again
    prospect.refresh_from_db()
    assert prospect.score == 50
    sf.Opportunity.update(deal["opportunity"], {"StageName": "Closed Lost"})
    assert pull_opportunities(connector=connector).scored == 1
    pull_opportunities(connector=connector)
    prospect.refresh_from_db()
    assert prospect.score == -50
    assert activities(prospect, ActivityType.OPPORTUNITY_LOST).get().points == -100
    assert not activities(prospect, ActivityType.OPPORTUNITY_WON).exists()
    assert OpportunityEvent.objects.filter(prospect=prospect).count() == 2
    bystander.refresh_from_db()
    assert bystander.score == 0
    assert prospect.sync_queue_item is not None  # the new score goes to Salesforce


def test_the_points_come_from_the_scoring_page(connector, sf, deal, marketer_client):
    ScoringRule.objects.create(activity_type=ActivityType.OPPORTUNITY_CREATED, points=5)
    ScoringRule.objects.create(activity_type=ActivityType.OPPORTUNITY_WON, points=200)
    prospect = ProspectFactory(crm_contact_id=deal["contact"], score=0)
    sf.Opportunity.update(deal["opportunity"], {"StageName": "Closed Won"})
    pull_opportunities(connector=connector)
    prospect.refresh_from_db()
    assert prospect.score == 205
    page = marketer_client.get(reverse("prospects:scoring")).content.decode()
    assert "Opportunity created" in page and "Opportunity lost" in page


def test_a_prospect_linked_later_scores_when_its_contact_syncs(connector, sf, deal):
    pull_opportunities(connector=connector)  # nobody syncs with the contact yet
    assert not OpportunityEvent.objects.exists()
    prospect = ProspectFactory(crm_contact_id=deal["contact"], score=0)
    pull_opportunities(connector=connector)
    prospect.refresh_from_db()
    assert prospect.score == 50


def test_the_list_filters_by_stage_and_outcome(connector, sf, deal, marketer_client):
    prospect = ProspectFactory(crm_contact_id=deal["contact"])
    other = ProspectFactory()
    pull_opportunities(connector=connector)
    url = reverse("prospects:list")

    def listed(**params) -> str:
        return marketer_client.get(url, params).content.decode()

    page = listed(opportunity_stage="Qualification")
    assert prospect.email in page and other.email not in page
    assert prospect.email in listed(opportunity_outcome="open")
    assert prospect.email not in listed(opportunity_outcome="won")
    sf.Opportunity.update(deal["opportunity"], {"StageName": "Closed Lost"})
    pull_opportunities(connector=connector)
    assert prospect.email in listed(opportunity_outcome="lost")
    assert prospect.email not in listed(opportunity_outcome="open")
    assert prospect.email not in listed(opportunity_stage="Qualification")


def test_a_do_not_sync_prospect_scores_but_is_not_queued(connector, sf, deal):
    prospect = ProspectFactory(crm_contact_id=deal["contact"], score=0, do_not_sync=True)
    status = prospect.sync_status
    pull_opportunities(connector=connector)
    prospect.refresh_from_db()
    assert prospect.score == 50
    assert prospect.sync_status == status
    assert not SyncQueueItem.objects.filter(prospect=prospect).exists()


def test_the_activity_shows_the_amount_as_the_timeline_writes_it(connector, sf, deal):
    prospect = ProspectFactory(crm_contact_id=deal["contact"], score=0)
    sf.Opportunity.update(deal["opportunity"], {"Amount": -1234567.5})
    pull_opportunities(connector=connector)
    [created] = activities(prospect, ActivityType.OPPORTUNITY_CREATED)
    assert created.title == "Opportunity created"
    assert created.details == {
        "Opportunity": "Scoring <i>deal</i>",
        "Stage": "Qualification",
        "Amount": "-1,234,567.50",
        "Salesforce id": deal["opportunity"],
    }
