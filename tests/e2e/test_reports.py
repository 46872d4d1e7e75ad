"""The closed-loop ROI report in a real browser: both tabs with their charts, and the CSV."""

import codecs
import csv
import datetime as dt
import io
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.models import Opportunity, OpportunityContactRole, SalesforceCampaign
from prospects.factories import CampaignFactory, ProspectFactory
from prospects.models import Prospect
from reports.roi import refresh_figures
from tests.e2e.conftest import SHOTS
from tests.e2e.test_prospects import log_in_as_marketer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# (Leadbridge campaign, its cost, Salesforce type, Salesforce Actual Cost, prospects, deals won)
CAMPAIGNS = [
    ("Spring webinar series", "12000", "Webinar", None, 60, 5),
    ("Trade show 2026", "45000", "Trade Show", "52000", 40, 4),
    ("Website sign-ups", "3000", "", None, 90, 3),
    ("Partner referrals", "8000", "Partners", "6500", 25, 3),
    ("Paid search Q1", "20000", "Advertisement", None, 50, 1),
]


def demo_like_data() -> None:
    rng = random.Random(16)
    n = 0
    for index, (name, cost, sf_type, actual, prospects, won) in enumerate(CAMPAIGNS):
        campaign = CampaignFactory(name=name, cost=Decimal(cost))
        sf_id = f"701DEMO{index:08d}AAA"
        if sf_type:
            SalesforceCampaign.objects.create(
                sf_id=sf_id,
                name=f"{name} (Salesforce)",
                type=sf_type,
                actual_cost=Decimal(actual) if actual else None,
                leadbridge_campaign=campaign,
            )
        people = [ProspectFactory(campaign=campaign) for _ in range(prospects)]
        Prospect.objects.filter(pk__in=[p.pk for p in people[: prospects // 2]]).update(
            crm_contact_id="003DEMO"
        )
        for deal in range(won + 3):
            n += 1
            is_won, is_open = deal < won, deal >= won + 1
            opportunity = Opportunity.objects.create(
                sf_id=f"006DEMO{n:08d}AAA",
                name=f"{name} deal {deal + 1}",
                stage="Closed Won" if is_won else ("Negotiation" if is_open else "Closed Lost"),
                amount=Decimal(rng.randrange(8, 60) * 1000),
                close_date=timezone.localdate() - dt.timedelta(days=rng.randrange(90)),
                is_won=is_won,
                is_closed=not is_open,
                campaign_sf_id=sf_id if sf_type and deal % 3 else "",
            )
            OpportunityContactRole.objects.create(
                sf_id=f"00KDEMO{n:08d}AAA",
                opportunity=opportunity,
                contact_sf_id="003DEMO",
                prospect=people[deal],
            )
    refresh_figures()


def test_the_roi_report_reads_like_a_report(browser_page, live_server):
    page = browser_page
    demo_like_data()
    log_in_as_marketer(page, live_server)
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.goto(f"{live_server.url}/reports/roi/")
    assert page.locator("nav >> text=Reports").count() >= 1
    table = page.locator("#tab-first_touch table")
    assert table.locator("tbody tr").count() == len(CAMPAIGNS)
    assert "Total" in table.locator("tfoot").inner_text()
    page.wait_for_function("document.querySelector('#tab-first_touch canvas').width > 0")
    page.screenshot(path=SHOTS / "roi-first-touch.png", full_page=True)

    page.click("#tab-btn-primary")
    page.wait_for_selector("#tab-primary table")
    assert "Trade show 2026 (Salesforce)" in page.locator("#tab-primary table").inner_text()
    page.wait_for_function("document.querySelector('#tab-primary canvas').width > 0")
    page.screenshot(path=SHOTS / "roi-primary.png", full_page=True)

    with page.expect_download() as download:
        page.click("#tab-primary >> text=Export CSV")
    body = download.value.path().read_bytes()
    assert body.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Campaign", "Type"] and rows[-1][0] == "Total"
    (SHOTS / "roi-primary.csv").write_bytes(body)
