"""The prospect page's Opportunities card in a real browser."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.models import Opportunity, OpportunityContactRole
from prospects.factories import ProspectFactory
from tests.e2e.conftest import SHOTS
from tests.e2e.test_prospects import log_in_as_marketer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_prospect_page_lists_its_opportunities(browser_page, live_server):
    page = browser_page
    prospect = ProspectFactory(
        first_name="Ada", last_name="Lovelace", crm_contact_id="003000000000001AAA"
    )
    deals = [
        ("Analytical Engine <script>x</script>", "Closed Won", Decimal("125000.50"), True, True),
        ("Difference Engine", "Negotiation/Review", None, False, False),
        ("Jacquard looms", "Closed Lost", Decimal("1234567.00"), True, False),
    ]
    for index, (name, stage, amount, closed, won) in enumerate(deals):
        opportunity = Opportunity.objects.create(
            sf_id=f"006000000000{index:03d}AAA",
            name=name,
            stage=stage,
            amount=amount,
            close_date=dt.date(2026, 12, 1 + index),
            is_closed=closed,
            is_won=won,
        )
        OpportunityContactRole.objects.create(
            sf_id=f"00K000000000{index:03d}AAA",
            opportunity=opportunity,
            contact_sf_id=prospect.crm_contact_id,
            prospect=prospect,
        )
    log_in_as_marketer(page, live_server)
    page.goto(f"{live_server.url}/prospects/{prospect.pk}/")
    card = page.locator(".card:has-text('Opportunities')")
    text = card.inner_text()
    assert "Analytical Engine <script>x</script>" in text  # shown as text, not run
    assert "125,000.50" in text and "Won" in text and "Lost" in text and "Open" in text
    assert card.locator("li").count() == 3
    card.screenshot(path=SHOTS / "prospect-opportunities.png")
