"""The REST API at scale (issue 13): a page of 100 prospects ≤ 50 ms median; a batch upsert
of 1,000 prospects ≤ 2 s.

Pages are read from a table of BENCH_API_PROSPECTS prospects (default 100,000), one in ten
with an open Sync Error, through the whole stack (key check, role, rate limit, filters,
cursor, serializer). Batches are half updates (matched by email), half creates, through
``intake.writes`` with history, activities and one sync request per batch.

    make bench BENCH=tests/bench/test_api_bench.py          (SQLite)
    DATABASE_URL=postgres://… make bench BENCH=tests/bench/test_api_bench.py
"""

import os
import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from prospects.models import Prospect
from sync.models import SyncError
from tests.api.conftest import key_client
from tests.conftest import user_with_role

N = int(os.environ.get("BENCH_API_PROSPECTS", "100000"))
RUNS = 15
PAGES = {
    "first page": {},
    "next page (cursor)": "cursor",
    "search": {"q": "smith"},
    "assigned user": {"assigned_user": "{owner}"},
    "CRM status": {"crm_status": "lead"},
    "score range": {"score_min": 40, "score_max": 120},
}
BATCHES = 3


@pytest.fixture
def table(settings):
    settings.API_RATE_LIMIT = "1000000/minute"
    owner = user_with_role("bench-owner", "Marketer")
    names = ["Smith", "Jones", "Garcia", "Chen", "Okafor", "Novak", "Silva"]
    for start in range(0, N, 10_000):  # plain rows: Faker would take minutes at this size
        Prospect.objects.bulk_create(
            [
                Prospect(
                    email=f"bench{i}@bench.example",
                    first_name=f"Pat{i}",
                    last_name=names[i % len(names)],
                    company=f"Company {i % 997}",
                    job_title="Buyer",
                    city="Boston",
                    score=i % 300,
                    assigned_user=owner if i % 3 == 0 else None,
                    crm_lead_id="00Q000000000001AAA" if i % 2 else "",
                )
                for i in range(start, min(N, start + 10_000))
            ],
            batch_size=5000,
        )
    now = timezone.now()
    with_errors = Prospect.objects.filter(email__endswith="0@bench.example").values_list(
        "pk", "email"
    )
    SyncError.objects.bulk_create(
        [
            SyncError(
                prospect_id=pk,
                prospect_email=email,
                operation="update",
                sobject="Lead",
                error_code="STRING_TOO_LONG",
                category="data_formatting",
                message="Customer Comment: data value too large (max length=100)",
                field="Customer_Comment__c",
                first_seen_at=now,
                last_seen_at=now,
            )
            for pk, email in with_errors
        ],
        batch_size=5000,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE prospects_prospect")
            cursor.execute("ANALYZE sync_syncerror")
    return owner


def _median_ms(call, runs: int = RUNS) -> tuple[float, float, float, int]:
    """Medians of ``call``'s wall time, of this process's CPU time (what the code costs,
    whatever else the machine runs) and of its SQL, in ms; and its number of queries."""
    call()  # warm
    times, cpu, sql = [], [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as queries:
            call()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
    median = statistics.median
    return median(times), median(cpu), median(sql), len(queries)


@pytest.mark.django_db(transaction=True)
def test_bench_api_pages_and_batch_upserts(table):
    api = key_client(table)
    url = "/api/v1/prospects/"
    first = api.get(url, {"page_size": 100}).json()
    assert len(first["results"]) == 100
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"\nAPI, {N:,} prospects on {connection.vendor}; load average {load} on {os.cpu_count()} CPUs"
    )
    print("page of 100 prospects (target ≤ 50 ms median)")
    for label, params in PAGES.items():
        if params == "cursor":
            target, query = first["next"], None
        else:
            target = url
            query = {k: str(v).format(owner=table.pk) for k, v in params.items()}
            query["page_size"] = 100

        def get(target=target, query=query):
            response = api.get(target, query)
            assert response.status_code == 200, response.content

        wall, cpu, sql, queries = _median_ms(get)
        print(
            f"  {label:<20} median {wall:6.1f} ms   (CPU {cpu:5.1f} ms, SQL {sql:5.1f} ms, "
            f"{queries} queries)"
        )

    print("batch upsert of 1,000 prospects, half updates, half creates (target ≤ 2 s)")
    times, cpu = [], []
    for run in range(BATCHES):
        rows = [{"email": f"bench{i}@bench.example", "city": f"City {run}"} for i in range(500)]
        rows += [{"email": f"new{run}-{i}@bench.example", "first_name": "New"} for i in range(500)]
        started, started_cpu = time.perf_counter(), time.process_time()
        response = api.post(f"{url}batch/", {"prospects": rows}, format="json")
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        assert response.status_code == 200
        assert response.json()["counts"] == {"updated": 500, "created": 500}
    print(
        f"  median {statistics.median(times):.2f} s   (runs: {', '.join(f'{t:.2f}' for t in times)})"
    )
