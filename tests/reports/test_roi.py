"""The closed-loop ROI report (reports/roi.py, reports/views.py): attribution, odd amounts, costs,
filters, the page and its CSV."""

import codecs
import csv
import datetime as dt
import io
import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crm.models import Opportunity, OpportunityContactRole
from prospects.factories import CampaignFactory, ProspectFactory
from reports.roi import CLOSED, RoiQuery, first_touch, primary_campaign, refresh_figures
from sync.engine.opportunities import amount
from tests.crm.factories import SalesforceCampaignFactory

pytestmark = pytest.mark.django_db
ids = itertools.count(1)


def aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def prospect(campaign, created: dt.date = dt.date(2026, 3, 1), **kwargs):
    made = ProspectFactory(campaign=campaign, **kwargs)
    type(made).objects.filter(pk=made.pk).update(created_at=aware(created))
    made.refresh_from_db()
    return made


def deal(*prospects, value="1000", won=True, closed=True, sf_campaign="", close=None, **kwargs):
    n = next(ids)
    opportunity = Opportunity.objects.create(
        sf_id=f"006{n:012d}AAA",
        name=f"Deal {n}",
        amount=None if value is None else Decimal(value),
        is_won=won,
        is_closed=closed,
        campaign_sf_id=sf_campaign,
        close_date=close or dt.date(2026, 6, 1),
        **kwargs,
    )
    for index, linked in enumerate(prospects):
        OpportunityContactRole.objects.create(
            sf_id=f"00K{n:09d}{index:03d}AAA",
            opportunity=opportunity,
            contact_sf_id=f"003{n:09d}{index:03d}AAA",
            prospect=linked,
            is_primary=index == 0,
        )
    return opportunity


def rows_by_name(report):
    return {row.name: row for row in report.rows}


def test_an_opportunity_of_several_prospects_counts_once_for_the_earliest_prospects_campaign():
    webinar, ads = CampaignFactory(name="Webinar"), CampaignFactory(name="Ads")
    early = prospect(webinar, dt.date(2026, 1, 5))
    late = prospect(ads, dt.date(2026, 2, 5))
    deal(late, early, value="5000")  # the later prospect is the primary contact: no matter
    deal(late, value="700")
    refresh_figures()
    report = first_touch(RoiQuery())
    rows = rows_by_name(report)
    assert (rows["Webinar"].opportunities, rows["Webinar"].won_revenue) == (1, Decimal("5000"))
    assert (rows["Ads"].opportunities, rows["Ads"].won_revenue) == (1, Decimal("700"))
    assert report.total.won_revenue == Decimal("5700")
    assert (rows["Webinar"].prospects, rows["Ads"].prospects) == (1, 1)


def test_the_pulls_refresh_moves_the_credits_and_leaves_the_prospect_counts_to_the_cron():
    campaign = CampaignFactory(name="Webinar")
    someone = prospect(campaign)
    refresh_figures()
    prospect(campaign)  # a new prospect: the cron's whole refresh counts it
    deal(someone, value="400")  # a pulled opportunity: the pull's credits refresh shows it
    refresh_figures(prospects=False)
    row = rows_by_name(first_touch(RoiQuery()))["Webinar"]
    assert (row.prospects, row.opportunities, row.won_revenue) == (1, 1, Decimal("400"))
    refresh_figures()
    assert rows_by_name(first_touch(RoiQuery()))["Webinar"].prospects == 2


def test_odd_amounts_have_defined_outcomes():
    campaign = CampaignFactory(name="Trade show")
    someone = prospect(campaign)
    deal(someone, value=None)  # Salesforce left it empty: counted, no revenue
    deal(someone, value="-250.50")  # a credit note: summed as Salesforce sums it
    deal(someone, value=amount(10**19))  # too large for the column: the pull keeps it out
    deal(someone, value="99999999999999999.99")  # the largest held, summed exactly
    deal(someone, value="1200", won=False, closed=False)  # open pipeline
    deal(someone, value="900", won=False, closed=True)  # lost: neither revenue nor pipeline
    refresh_figures()
    row = rows_by_name(first_touch(RoiQuery()))["Trade show"]
    assert (row.opportunities, row.won, row.no_amount, row.negative) == (6, 4, 2, 1)
    if connection.vendor == "postgresql":  # SQLite sums decimals as floats (Django's caveat)
        assert row.won_revenue == Decimal("99999999999999749.49")
    assert row.pipeline == Decimal("1200")


def test_deleted_opportunities_and_roles_credit_nothing_and_roles_to_no_prospect_fall_to_primary():
    campaign = CampaignFactory(name="Spring")
    someone = prospect(campaign)
    deal(someone, value="100", deleted_at=timezone.now())
    gone = deal(someone, value="200")
    gone.contact_roles.update(deleted=True)
    sf = SalesforceCampaignFactory(name="SF Spring", type="Webinar")
    deal(None, value="300", sf_campaign=sf.sf_id)  # its contact syncs with no prospect
    refresh_figures()
    assert rows_by_name(first_touch(RoiQuery()))["Spring"].opportunities == 0
    primary = rows_by_name(primary_campaign(RoiQuery()))
    assert primary["SF Spring"].won_revenue == Decimal("300")
    assert primary["No primary campaign source"].won_revenue == Decimal("200")


def test_cost_is_the_connected_salesforce_campaigns_actual_cost_else_the_leadbridge_cost():
    connected = CampaignFactory(name="Connected", cost=Decimal("100"))
    SalesforceCampaignFactory(
        name="SF connected", actual_cost=Decimal("2000"), leadbridge_campaign=connected
    )
    alone = CampaignFactory(name="Alone", cost=Decimal("400"))
    free = CampaignFactory(name="Free", cost=Decimal("0"))
    for campaign in (connected, alone, alone, free):
        prospect(campaign)
    deal(prospect(connected), value="5000")
    deal(prospect(free), value="10")
    refresh_figures()
    rows = rows_by_name(first_touch(RoiQuery()))
    assert (rows["Connected"].cost, rows["Connected"].cost_source) == (
        Decimal("2000"),
        "Salesforce Actual Cost",
    )
    assert rows["Connected"].roi == Decimal("150")  # (5000 - 2000) / 2000
    assert rows["Connected"].cost_per_prospect == Decimal("1000")
    assert (rows["Alone"].cost, rows["Alone"].roi, rows["Alone"].cost_per_prospect) == (
        Decimal("400"),
        Decimal("-100"),
        Decimal("200"),
    )
    assert rows["Free"].roi is None  # no cost: no ratio to show
    primary = rows_by_name(primary_campaign(RoiQuery()))
    assert primary["SF connected"].cost == Decimal("2000")  # cost, nothing sourced yet


def test_the_total_roi_weighs_only_the_revenue_of_campaigns_with_a_cost():
    paid = CampaignFactory(name="Paid", cost=Decimal("1000"))
    deal(prospect(paid), value="3000")
    deal(prospect(None), value="50000")  # no campaign: no cost to weigh it against
    refresh_figures()
    total = first_touch(RoiQuery()).total
    assert total.won_revenue == Decimal("53000") and total.roi == Decimal("200")


def test_the_date_range_applies_to_prospects_created_or_opportunities_closed():
    campaign = CampaignFactory(name="Q1")
    january = prospect(campaign, dt.date(2026, 1, 10))
    april = prospect(campaign, dt.date(2026, 4, 10))
    deal(january, value="100", close=dt.date(2026, 5, 1))
    deal(april, value="20", close=dt.date(2026, 1, 20))
    refresh_figures()
    q1 = {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 3, 31)}
    created = rows_by_name(first_touch(RoiQuery(**q1)))["Q1"]
    assert (created.prospects, created.won_revenue) == (1, Decimal("100"))
    closed = rows_by_name(first_touch(RoiQuery(**q1, basis=CLOSED)))["Q1"]
    assert (closed.prospects, closed.won_revenue) == (1, Decimal("20"))


def test_the_campaign_type_filter_keeps_campaigns_of_that_type():
    webinar, other = CampaignFactory(name="Webinar A"), CampaignFactory(name="Print")
    SalesforceCampaignFactory(type="Webinar", leadbridge_campaign=webinar)
    prospect(webinar), prospect(other), prospect(None)
    refresh_figures()
    assert [r.name for r in first_touch(RoiQuery(campaign_type="Webinar")).rows] == ["Webinar A"]
    assert {r.name for r in first_touch(RoiQuery()).rows} == {"Webinar A", "Print", "No campaign"}


def test_a_prospects_campaign_change_shows_after_the_refresh():
    old, new = CampaignFactory(name="Old"), CampaignFactory(name="New")
    someone = prospect(old)
    deal(someone, value="50")
    refresh_figures()
    someone.campaign = new
    someone.save(update_fields=["campaign"])
    refresh_figures()
    rows = rows_by_name(first_touch(RoiQuery()))
    assert "Old" not in rows and rows["New"].won_revenue == Decimal("50")


def test_the_page_shows_both_models_with_totals_and_escapes_names(
    marketer_client, django_assert_max_num_queries
):
    campaign = CampaignFactory(name="<b>Launch</b>", cost=Decimal("1000"))
    deal(prospect(campaign), value="4500.25")
    refresh_figures()
    with django_assert_max_num_queries(20):
        response = marketer_client.get(reverse("reports:roi"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;b&gt;Launch&lt;/b&gt;" in html and "<b>Launch" not in html
    assert "4,500.25" in html and "350%" in html  # (4500.25 - 1000) / 1000
    assert "First touch" in html and "Primary campaign source" in html
    assert "Leadbridge cost" in html and 'type="application/json"' in html
    tab = marketer_client.get(reverse("reports:roi_tab"), {"view": "primary"}).content.decode()
    assert "No primary campaign source" in tab and "4,500.25" in tab and "Export CSV" in tab


def test_the_page_is_for_marketers(client):
    assert client.get(reverse("reports:roi")).status_code in (302, 403)


def test_a_bad_date_is_shown_not_a_crash(marketer_client):
    response = marketer_client.get(reverse("reports:roi"), {"start": "2026-13-45"})
    assert response.status_code == 200 and "Enter a valid date" in response.content.decode()


def test_the_csv_has_a_bom_plain_numbers_defused_formulas_and_a_total(marketer_client):
    campaign = CampaignFactory(name="=HYPERLINK(1)", cost=Decimal("200"))
    deal(prospect(campaign), value="-50")
    deal(prospect(CampaignFactory(name="Ünïcode")), value="1234.5")
    refresh_figures()
    response = marketer_client.get(reverse("reports:roi_export"), {"view": "first_touch"})
    body = response.content
    assert body.startswith(codecs.BOM_UTF8)
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    by_name = {row["Campaign"]: row for row in rows}
    assert by_name["'=HYPERLINK(1)"]["Won revenue"] == "-50.00"  # a number, not defused
    assert by_name["'=HYPERLINK(1)"]["ROI (%)"] == "-125.0"
    assert by_name["Ünïcode"]["Won revenue"] == "1234.50"
    assert rows[-1]["Campaign"] == "Total" and rows[-1]["Won revenue"] == "1184.50"
    primary = marketer_client.get(reverse("reports:roi_export"), {"view": "primary"})
    header = primary.content.decode("utf-8-sig").splitlines()[0]
    assert "Prospects created" not in header and "Won revenue" in header
