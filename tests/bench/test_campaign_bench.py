"""Salesforce campaign members (issue 15): the pull, the push and the members page.

Run: `DATABASE_URL=postgres://… SANDBOX_DATABASE_URL=postgres://… make bench
BENCH=tests/bench/test_campaign_bench.py`.

- pull: N campaign members changed in the org (each a lead linked to a prospect) pulled into
  memberships. Target: 100,000 in ≤ 60 s. BENCH_CAMPAIGN_PULL_N (default 100,000).
- push: N synced prospects added to a campaign in the portal and written to Salesforce (Bulk
  API 2.0 insert). Target: 10,000 in ≤ 30 s. BENCH_CAMPAIGN_ADD_N (default 10,000).
- page: a campaign with M members, first and filtered pages, every filter and sort. Target (at
  1,000,000 members): ≤ 300 ms, ≤ 10 queries. BENCH_CAMPAIGN_PAGE_N (default 1,000,000; the
  members are made in SQL on PostgreSQL, a few minutes).
"""

import contextlib
import cProfile
import datetime as dt
import os
import random
import statistics
import time
import uuid
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.memberships import add_to_campaign, refresh_counts
from crm.models import CampaignMembership, MembershipState, SalesforceCampaign
from prospects.factories import ProspectFactory
from prospects.models import Prospect
from sync.engine import campaigns as engine
from sync.engine.values import parse_sf_datetime
from sync.models import SyncCursor
from sync.salesforce import Client
from tests.conftest import user_with_role

PULL_N = int(os.environ.get("BENCH_CAMPAIGN_PULL_N", "100000"))
ADD_N = int(os.environ.get("BENCH_CAMPAIGN_ADD_N", "10000"))
PAGE_N = int(os.environ.get("BENCH_CAMPAIGN_PAGE_N", "1000000"))


@contextlib.contextmanager
def profiled(name: str) -> Iterator[None]:
    """With BENCH_CAMPAIGN_PROFILE=dir, write a cProfile of the step there."""
    folder = os.environ.get("BENCH_CAMPAIGN_PROFILE")
    if not folder:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(os.path.join(folder, f"campaign-{name}.prof"))


def linked_leads(sandbox_org, client: Client, n: int) -> list[str]:
    """N new leads in the org, each linked to a new prospect; returns their ids."""
    prefix = f"cmp{uuid.uuid4().hex[:6]}-"
    sandbox_org.control("seed_leads", count=n, prefix=prefix)
    ids = [
        row["Id"] for row in client.bulk_query(f"SELECT Id FROM Lead WHERE Email LIKE '{prefix}%'")
    ]
    for start in range(0, len(ids), 5000):
        Prospect.objects.bulk_create(
            [ProspectFactory.build(crm_lead_id=lead) for lead in ids[start : start + 5000]],
            batch_size=5000,
        )
    return ids


def new_campaign(sandbox_org, connector, client: Client) -> SalesforceCampaign:
    sf = sandbox_org.admin()
    sf_id = sf.Campaign.create({"Name": f"Bench {uuid.uuid4().hex[:6]}", "IsActive": True})["id"]
    engine.pull_campaigns(connector=connector, client=client)
    return SalesforceCampaign.objects.get(sf_id=sf_id)


@pytest.mark.django_db(transaction=True)
def test_bench_campaign_member_pull(connector, sandbox_org):
    sandbox_org.control("set_org", daily_api_limit=10_000_000)
    client = Client.for_connector(connector)
    campaign = new_campaign(sandbox_org, connector, client)
    leads = linked_leads(sandbox_org, client, PULL_N)
    sandbox_org.control("seed_campaign_members", campaign_id=campaign.sf_id, lead_ids=leads)
    # Read only what the seed made (older test members stay out).
    stamp = parse_sf_datetime(
        client.query_all(
            f"SELECT SystemModstamp FROM CampaignMember WHERE CampaignId = '{campaign.sf_id}' "
            "LIMIT 1"
        )[0]["SystemModstamp"]
    )
    SyncCursor.objects.update_or_create(
        connector=connector,
        sobject="CampaignMember",
        defaults={"watermark": stamp + engine.OVERLAP - dt.timedelta(seconds=1)},
    )
    calls = client.api_calls
    with profiled("pull"):
        started = time.perf_counter()
        report = engine.pull_campaigns(connector=connector, client=client)
        elapsed = time.perf_counter() - started
    added = CampaignMembership.objects.filter(campaign=campaign).count()
    assert added == PULL_N
    print(
        f"\ncampaign member pull: {PULL_N:,} members in {elapsed:.1f} s "
        f"({PULL_N / elapsed:,.0f} rec/s), {client.api_calls - calls} API calls, "
        f"{report.counts['bulk_jobs']} bulk job(s) on {connection.vendor}"
        f"   target: 100,000 in <= 60 s"
    )


@pytest.mark.django_db(transaction=True)
def test_bench_add_prospects_to_campaign(connector, sandbox_org):
    sandbox_org.control("set_org", daily_api_limit=10_000_000)
    client = Client.for_connector(connector)
    campaign = new_campaign(sandbox_org, connector, client)
    leads = linked_leads(sandbox_org, client, ADD_N)
    ids = list(Prospect.objects.filter(crm_lead_id__in=leads).values_list("pk", flat=True))
    calls = client.api_calls
    with profiled("push"):
        started = time.perf_counter()
        add_to_campaign(ids, campaign, "Responded")
        added = time.perf_counter() - started
        report = engine.push_memberships(connector=connector, client=client)
        elapsed = time.perf_counter() - started
    synced = CampaignMembership.objects.filter(
        campaign=campaign, state=MembershipState.SYNCED
    ).count()
    assert synced == ADD_N, report
    in_org = client.query_count(
        f"SELECT COUNT() FROM CampaignMember WHERE CampaignId = '{campaign.sf_id}'"
    )
    assert in_org == ADD_N
    print(
        f"\nadd to campaign: {ADD_N:,} prospects added in {added:.1f} s, in Salesforce after "
        f"{elapsed:.1f} s ({ADD_N / elapsed:,.0f} rec/s), {client.api_calls - calls} API calls, "
        f"{report.counts['bulk_jobs']} bulk job(s) on {connection.vendor}"
        f"   target: 10,000 in <= 30 s"
    )


PAGES = {
    "first page": {},
    "status": {"status": "Responded"},
    "sync state": {"state": "error"},
    "responded": {"has_responded": "true"},
    "email prefix": {"email": "zz"},
    "email a": {"email": "a"},
    "status+email": {"status": "Sent", "email": "m"},
    "status+state": {"status": "Sent", "state": "pending"},
    "page 40": {"page": "40"},
    "page 200": {"page": "200"},
    "sort email": {"sort": "prospect"},
    "sort status": {"sort": "-status"},
    "sort sync": {"sort": "state"},
    "sort responded": {"sort": "has_responded"},
    "sort changed": {"sort": "-updated_at"},
    "state+changed": {"state": "error", "sort": "updated_at"},
}
STATUSES = ["Sent", "Responded", "Registered"]


def add_members(campaign: SalesforceCampaign, n: int) -> None:
    """N prospects, each a member of ``campaign`` (status and sync state spread as in life)."""
    if connection.vendor == "postgresql":
        return add_members_sql(campaign, n)
    random.seed(1)
    for start in range(0, n, 20_000):
        size = min(20_000, n - start)
        prospects = Prospect.objects.bulk_create(
            [ProspectFactory.build() for _ in range(size)], batch_size=5000
        )
        CampaignMembership.objects.bulk_create(
            [
                CampaignMembership(
                    prospect=p,
                    campaign=campaign,
                    status=(status := random.choice(STATUSES)),
                    has_responded=status != "Sent",
                    state=random.choice(["synced"] * 20 + ["pending", "error"]),
                )
                for p in prospects
            ],
            batch_size=5000,
        )


def add_members_sql(campaign: SalesforceCampaign, n: int) -> None:
    """The same in set-based SQL: 1,000 factory prospects copied with unique emails (a million
    rows built in Python take longer than the bench)."""
    templates = Prospect.objects.bulk_create([ProspectFactory.build() for _ in range(1000)])
    template_ids = [p.pk for p in templates]
    columns = [
        f.column
        for f in Prospect._meta.concrete_fields
        if f.column not in ("id", "email", "sync_key")
    ]
    listed = ", ".join(columns)
    copied = ", ".join(f"t.{c}" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO prospects_prospect ({listed}, email, sync_key)
            SELECT {copied}, lower(t.first_name || '.' || g || '@' || md5(g::text) || '.example'),
                   gen_random_uuid()
            FROM generate_series(1, %s) g
            JOIN (SELECT *, row_number() OVER (ORDER BY id) - 1 AS rn
                  FROM prospects_prospect WHERE id = ANY(%s)) t ON t.rn = g %% 1000
            """,
            [n - len(templates), template_ids],
        )
        cursor.execute(
            """
            INSERT INTO crm_campaignmembership (prospect_id, campaign_id, status, has_responded,
                sf_member_id, state, generation, attempts, error_message, created_at, updated_at)
            SELECT p.id, %s, s.status, s.status <> 'Sent', '',
                   CASE WHEN h %% 22 = 0 THEN 'pending' WHEN h %% 22 = 1 THEN 'error'
                        ELSE 'synced' END,
                   1, 0, '', now(), now() - (h %% 43200) * interval '1 minute'
            FROM prospects_prospect p
            CROSS JOIN LATERAL (SELECT hashtext(p.id::text) & 65535 AS h) r
            CROSS JOIN LATERAL (SELECT (%s::text[])[1 + h %% 3] AS status) s
            """,
            [campaign.pk, STATUSES],
        )


@pytest.mark.django_db(transaction=True)
def test_bench_campaign_members_page(client):
    campaign = SalesforceCampaign.objects.create(
        sf_id="701BENCH00000001AAA"[:18], name="Bench page", is_active=True
    )
    add_members(campaign, PAGE_N)
    refresh_counts([campaign.pk])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE crm_campaignmembership")
            cursor.execute("ANALYZE prospects_prospect")
    client.force_login(user_with_role("bench-marketer", "Marketer"))
    url = reverse("crm:campaign", args=[campaign.pk])
    print(
        f"\ncampaign members page, {PAGE_N:,} members on {connection.vendor} "
        "(target at 1,000,000: <= 300 ms, <= 10 queries)"
    )
    for label, query in PAGES.items():
        client.get(url, query)  # warm
        times, sql = [], []
        for _ in range(7):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, query)
                times.append((time.perf_counter() - started) * 1000)
            sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
            assert response.status_code == 200
        print(
            f"  {label:<15} median {statistics.median(times):6.1f} ms  "
            f"max {max(times):6.1f} ms  (SQL median {statistics.median(sql):5.1f} ms)  "
            f"{len(queries):>2} queries"
        )
