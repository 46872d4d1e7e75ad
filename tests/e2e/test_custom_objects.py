"""The Custom objects page and the prospect page's custom object card in a real browser."""

import pytest
from django.utils import timezone

from crm.models import CustomObjectDefinition, CustomObjectRecord
from prospects.factories import ProspectFactory
from tests.e2e.conftest import SHOTS
from tests.e2e.test_dashboard import log_in_as_sync_admin

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_sync_admin_picks_a_custom_object_and_the_prospect_page_shows_its_records(
    browser_page, live_server, connector
):
    page = browser_page
    log_in_as_sync_admin(page, live_server)
    page.goto(f"{live_server.url}/sync/custom-objects/")
    page.select_option("#id_object", "Subscription__c")
    page.click("#pick-object button[type=submit]")
    page.select_option("#id_lookup", "Account__c:Account")
    page.check("input[value='Plan__c']")
    page.check("input[value='Seats__c']")
    page.check("input[value='Active__c']")
    page.screenshot(path=SHOTS / "custom-objects-form.png", full_page=True)
    page.click("#custom-object-form button[type=submit]")
    assert "is mirrored" in page.inner_text("body")
    definition = CustomObjectDefinition.objects.get(api_name="Subscription__c")
    assert set(definition.field_names) == {"Plan__c", "Active__c", "Seats__c"}
    page.screenshot(path=SHOTS / "custom-objects.png", full_page=True)

    prospect = ProspectFactory(
        first_name="Grace", last_name="Hopper", crm_account_id="001000000000777AAA"
    )
    for index, (plan, seats, active) in enumerate(
        [("Enterprise", 250.0, True), ("Growth <b>trial</b>", 12.0, False)]
    ):
        CustomObjectRecord.objects.create(
            definition=definition,
            sf_id=f"a00000000000{index:03d}AAA",
            name=f"SUB-{index:04d}",
            parent_sf_id=prospect.crm_account_id,
            values={"Plan__c": plan, "Seats__c": seats, "Active__c": active},
            refreshed_at=timezone.now(),
        )
    page.goto(f"{live_server.url}/prospects/{prospect.pk}/")
    card = page.locator("[data-custom-object='Subscription__c']")
    text = card.inner_text()
    assert "SUB-0000" in text and "Enterprise" in text and "Growth <b>trial</b>" in text
    assert "Yes" in text and "No" in text and "250" in text and "250.0" not in text
    card.screenshot(path=SHOTS / "prospect-custom-objects.png")
    page.screenshot(path=SHOTS / "prospect-page-custom-objects.png", full_page=True)
