"""The closed-loop ROI report (issue 16) over many prospects and opportunities.

Run: `DATABASE_URL=postgres://… SANDBOX_DATABASE_URL=postgres://… make bench
BENCH=tests/bench/test_roi_bench.py`.

Target: the ROI page over 1,000,000 prospects and 100,000 opportunities ≤ 500 ms median.
BENCH_ROI_PROSPECTS (default 200,000: a shared machine runs it at a reduced size; say so when
quoting it; 1,000,000 for the target's size) and BENCH_ROI_OPPORTUNITIES (default a tenth of the
prospects). Also printed, without a target: the figures' refresh (the cron's and the pull's job).
"""

import datetime as dt
import os
import random
import statistics
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Opportunity, OpportunityContactRole, SalesforceCampaign
from portal.fake_prospects import make_prospects
from prospects.models import Campaign, Prospect
from reports.roi import refresh_figures
from tests.conftest import user_with_role

PROSPECTS = int(os.environ.get("BENCH_ROI_PROSPECTS", "200000"))
OPPORTUNITIES = int(os.environ.get("BENCH_ROI_OPPORTUNITIES", str(max(PROSPECTS // 10, 1))))
CAMPAIGNS = 40
TYPES = ["Webinar", "Trade Show", "Advertisement", "Email", "Partners"]
CHUNK = 10_000
TARGET_MS = 500
PAGES = {
    "all time": {},
    "created in Q": {"start": "2026-01-01", "end": "2026-03-31"},
    "closed in Q": {"basis": "closed", "start": "2026-04-01", "end": "2026-06-30"},
    "one type": {"campaign_type": "Webinar"},
}


def campaigns() -> list[Campaign]:
    made = Campaign.objects.bulk_create(
        [
            Campaign(name=f"Bench campaign {n:02d}", cost=Decimal(1000 + 250 * n))
            for n in range(CAMPAIGNS)
        ]
    )
    SalesforceCampaign.objects.bulk_create(
        [
            SalesforceCampaign(
                sf_id=f"701BENCH{n:07d}AAA",
                name=f"SF bench campaign {n:02d}",
                type=TYPES[n % len(TYPES)],
                actual_cost=Decimal(5000 + 100 * n) if n % 2 else None,
                leadbridge_campaign=campaign if n % 3 else None,
            )
            for n, campaign in enumerate(made)
        ]
    )
    return made


def opportunities(prospect_ids: list[int]) -> None:
    """OPPORTUNITIES deals, one or two contact roles each to random prospects (made synced)."""
    rng = random.Random(16)
    contacts: set[int] = set()
    for start in range(0, OPPORTUNITIES, CHUNK):
        size = min(CHUNK, OPPORTUNITIES - start)
        opps = Opportunity.objects.bulk_create(
            [
                Opportunity(
                    sf_id=f"006B{start + i:014d}",
                    name=f"Deal {start + i}",
                    stage=(stage := rng.choice(["Prospecting", "Closed Won", "Closed Lost"])),
                    amount=rng.choice([None, Decimal(rng.randrange(1_000, 500_000))]),
                    close_date=dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(365)),
                    is_closed=stage != "Prospecting",
                    is_won=stage == "Closed Won",
                    campaign_sf_id=f"701BENCH{rng.randrange(CAMPAIGNS + 5):07d}AAA",
                )
                for i in range(size)
            ],
            batch_size=5000,
        )
        roles = []
        for index, opp in enumerate(opps):
            for role in range(rng.choice([1, 1, 2])):
                prospect = rng.choice(prospect_ids)
                contacts.add(prospect)
                roles.append(
                    OpportunityContactRole(
                        sf_id=f"00KB{start + index:012d}{role:02d}",
                        opportunity=opp,
                        contact_sf_id=f"003B{prospect:014d}",
                        prospect_id=prospect,
                        is_primary=role == 0,
                    )
                )
        OpportunityContactRole.objects.bulk_create(roles, batch_size=5000)
    ids = sorted(contacts)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        Prospect.objects.filter(pk__in=chunk).update(crm_contact_id="003BENCH")


@pytest.mark.django_db(transaction=True)
def test_bench_roi_report(client):
    made = campaigns()
    started = time.perf_counter()
    ids = make_prospects(PROSPECTS, campaigns=[*made, None])
    opportunities(ids)
    print(
        f"\nROI report: {PROSPECTS:,} prospects, {OPPORTUNITIES:,} opportunities on "
        f"{connection.vendor} (made in {time.perf_counter() - started:.0f} s)"
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    refreshes = []
    for _ in range(3):
        started = time.perf_counter()
        refresh_figures()
        refreshes.append((time.perf_counter() - started) * 1000)
    print(
        f"  refresh of the figures      median {statistics.median(refreshes):8.1f} ms (no target;"
        " the cron's)"
    )
    credits = []
    for _ in range(3):
        started = time.perf_counter()
        refresh_figures(prospects=False)
        credits.append((time.perf_counter() - started) * 1000)
    print(
        f"  refresh of the credits only median {statistics.median(credits):8.1f} ms (no target;"
        " after a pull)"
    )
    client.force_login(user_with_role("bench-marketer", "Marketer"))
    url = reverse("reports:roi")
    print(f"  the page (target at 1,000,000 prospects / 100,000 opportunities: <= {TARGET_MS} ms)")
    for label, query in PAGES.items():
        client.get(url, query)  # warm
        times = []
        for _ in range(7):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, query)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        median = statistics.median(times)
        print(
            f"  {label:<27} median {median:8.1f} ms  max {max(times):7.1f} ms  "
            f"{len(queries):>2} queries  target {TARGET_MS} ms"
            f"{'' if median <= TARGET_MS else '  NOT MET'}"
        )
    export = []
    for _ in range(5):
        started = time.perf_counter()
        assert client.get(reverse("reports:roi_export")).status_code == 200
        export.append((time.perf_counter() - started) * 1000)
    print(f"  CSV export                  median {statistics.median(export):8.1f} ms")
