"""A marketer adds prospects to Salesforce campaigns in a real browser: the prospect page's
card, the list's bulk action, the campaign's members page."""

import pytest

from crm.memberships import refresh_counts
from crm.models import CampaignMembership
from prospects.factories import ProspectFactory
from tests.crm.factories import MembershipFactory, SalesforceCampaignFactory
from tests.e2e.conftest import SHOTS
from tests.e2e.test_prospects import log_in_as_marketer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_marketer_adds_prospects_to_a_salesforce_campaign(browser_page, live_server):
    page = browser_page
    webinar = SalesforceCampaignFactory(
        name="Spring Webinar",
        statuses=[("Sent", False), ("Responded", True), ("Registered", True)],
    )
    MembershipFactory.create_batch(12, campaign=webinar, status="Sent", state="synced")
    refresh_counts([webinar.pk])
    ada = ProspectFactory(first_name="Ada", last_name="Lovelace", company="Analytical Engines")
    ProspectFactory.create_batch(5, company="Initech")
    log_in_as_marketer(page, live_server)

    page.goto(f"{live_server.url}/prospects/{ada.pk}/")
    page.select_option("#salesforce-campaigns select", label="Registered")
    page.click("#salesforce-campaigns button:has-text('Add')")
    page.wait_for_selector("text=pending until the prospect syncs")
    card = page.locator("#salesforce-campaigns")
    assert "Spring Webinar" in card.inner_text() and "Registered" in card.inner_text()
    page.screenshot(path=SHOTS / "campaigns-prospect-card.png", full_page=True)

    page.goto(f"{live_server.url}/prospects/?q=Initech")
    for box in page.locator("td input[name=select]").all()[:3]:
        box.check()
    page.click("text=Add selected to a Salesforce campaign")
    page.wait_for_selector("text=The 3 selected prospects")
    page.select_option("select[name=campaign_status]", label="Responded")
    page.click("button:has-text('Add 3 prospects')")
    page.wait_for_selector("text=3 prospects added")
    assert CampaignMembership.objects.filter(campaign=webinar, status="Responded").count() == 3
    page.screenshot(path=SHOTS / "campaigns-members.png", full_page=True)

    page.goto(f"{live_server.url}/crm/campaigns/")
    assert "Spring Webinar" in page.inner_text("table")
    page.screenshot(path=SHOTS / "campaigns-list.png", full_page=True)
