"""Prospect list with 100,000 prospects (issue 2): first page and filtered pages.

Run: `DATABASE_URL=postgres://… make bench BENCH=tests/bench/test_prospects_bench.py`.
Target: each page ≤ 200 ms median in ≤ 10 queries. BENCH_PROSPECTS sets the count.
"""

import os
import random
import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect
from tests.conftest import user_with_role

N = int(os.environ.get("BENCH_PROSPECTS", "100000"))
PAGES = {
    "first page": "",
    "search": "?q=smith",
    "assigned user": "?assigned_user={owner}",
    "CRM status": "?crm_status=lead",
    "score range": "?score_min=40&score_max=120",
    "created range": "?created_at_after=2020-01-01&created_at_before=2030-01-01",
    "sorted by score": "?sort=-score",
}


@pytest.mark.django_db(transaction=True)
def test_bench_prospect_list(client):
    owners = [UserFactory(username=f"owner{i}") for i in range(5)]
    random.seed(1)
    for start in range(0, N, 10_000):
        Prospect.objects.bulk_create(
            [
                ProspectFactory.build(
                    assigned_user=random.choice([*owners, None]),
                    crm_lead_id=random.choice(["", "00Q000000000001AAA"]),
                )
                for _ in range(min(10_000, N - start))
            ],
            batch_size=5000,
        )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE prospects_prospect")
    admin = user_with_role("bench-admin", "Sync admin")
    client.force_login(admin)
    print(
        f"\nprospect list, {N:,} prospects on {connection.vendor} (target ≤ 200 ms, ≤ 10 queries)"
    )
    for label, query in PAGES.items():
        url = reverse("prospects:list") + query.format(owner=owners[0].pk)
        client.get(url)  # warm
        times = []
        for _ in range(7):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        print(
            f"  {label:<16} median {statistics.median(times):7.1f} ms   {len(queries):2d} queries"
        )
