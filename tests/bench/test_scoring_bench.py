"""Score and grade recompute over 100,000 prospects (issue 14): ≤ 10 s.

Run: `make bench BENCH=tests/bench/test_scoring_bench.py` (SQLite), or with
`DATABASE_URL=postgres://…` for PostgreSQL. BENCH_PROSPECTS sets the count (default 100,000),
BENCH_ACTIVITIES the activities per prospect (default 3).

The worst case is measured: a rule change re-prices every activity, and a new default profile
grades every prospect, so every score and grade changes and every prospect is queued for a sync.
Then a recompute with nothing to change (the steady state a "Recompute now" usually meets).
"""

import os
import random
import time

import pytest
from django.db import connection
from django.utils import timezone

from prospects.models import (
    Activity,
    ActivityType,
    GradingCriterion,
    GradingProfile,
    Prospect,
    ScoringRule,
    SyncQueueItem,
)
from prospects.scoring import recompute_scores, regrade, rescore
from tests.bench.cpu import process_cpu

N = int(os.environ.get("BENCH_PROSPECTS", "100000"))
PER = int(os.environ.get("BENCH_ACTIVITIES", "3"))
TARGET = 10.0
INDUSTRIES = ["Software", "Manufacturing", "Healthcare", "Retail", "Finance", ""]
TITLES = ["Marketing Manager", "CTO", "Engineer", "Director of Sales", "", "Intern"]
KINDS = [ActivityType.FORM, ActivityType.LANDING_PAGE_VIEW, ActivityType.FORM_HANDLER]


def _load() -> None:
    rng = random.Random(14)
    now = timezone.now()
    for start in range(0, N, 10_000):
        Prospect.objects.bulk_create(
            [
                Prospect(
                    email=f"bench{n}@scoring.example",
                    last_name=f"Bench {n}",
                    job_title=rng.choice(TITLES),
                    industry=rng.choice(INDUSTRIES),
                    employees=rng.choice([None, 5, 50, 500, 5000]),
                    country=rng.choice(["United States", "France", ""]),
                    score=0,
                )
                for n in range(start, min(N, start + 10_000))
            ],
            batch_size=5000,
        )
    ids = list(Prospect.objects.values_list("pk", flat=True))
    for start in range(0, len(ids), 20_000):
        rows = []
        for pk in ids[start : start + 20_000]:
            for _ in range(PER):
                kind = rng.choice(KINDS)
                rows.append(
                    Activity(
                        prospect_id=pk,
                        type=kind,
                        occurred_at=now,
                        points={"form": 50, "landing_page_view": 1, "form_handler": 50}[kind],
                    )
                )
        Activity.objects.bulk_create(rows, batch_size=5000)
    Prospect.objects.update(score=0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE prospects_prospect")
            cursor.execute("ANALYZE prospects_activity")


def _own_backend_cpu() -> float:
    """The CPU seconds of the PostgreSQL backend serving this connection (0 on SQLite)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return process_cpu(cursor.fetchone()[0])


def _row_versions() -> int:
    """Prospect row versions written so far (PostgreSQL's statistics; 0 elsewhere)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # this backend's counts, now
        cursor.execute(
            "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'prospects_prospect'"
        )
        return cursor.fetchone()[0]


def _timed(label: str, func) -> float:
    started = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - started
    size = len(result) if isinstance(result, list) else result
    print(f"  {label:<34} {seconds:6.2f} s   ({size})")
    return seconds


@pytest.mark.django_db(transaction=True)
def test_bench_score_and_grade_recompute():
    _load()
    ScoringRule.objects.create(activity_type=ActivityType.FORM, points=40)
    ScoringRule.objects.create(activity_type=ActivityType.LANDING_PAGE_VIEW, points=2)
    profile = GradingProfile.objects.create(name="Bench", is_default=True)
    GradingCriterion.objects.bulk_create(
        [
            GradingCriterion(
                profile=profile,
                field="job_title",
                match="contains",
                values=["manager", "director"],
                weight=2,
            ),
            GradingCriterion(
                profile=profile,
                field="industry",
                match="is",
                values=["Software", "Finance"],
                weight=2,
            ),
            GradingCriterion(
                profile=profile, field="employees", match="between", minimum=100, weight=3
            ),
            GradingCriterion(
                profile=profile, field="country", match="is", values=["United States"], weight=1
            ),
        ]
    )
    print(
        f"\nscore and grade recompute, {N:,} prospects, {N * PER:,} activities "
        f"on {connection.vendor} (target ≤ {TARGET:.0f} s)"
    )
    versions, cpu, db_cpu = _row_versions(), time.process_time(), _own_backend_cpu()
    started = time.perf_counter()
    report = recompute_scores()
    total = time.perf_counter() - started
    cpu, db_cpu = time.process_time() - cpu, _own_backend_cpu() - db_cpu
    print(
        f"  worst case (all change), whole job   {total:6.2f} s   target ≤ {TARGET:.0f} s   "
        f"(rescored {report.rescored:,}, regraded {report.regraded:,}, queued {report.queued:,})"
    )
    if connection.vendor == "postgresql":
        print(f"    CPU: Python {cpu:.2f} s, database {db_cpu:.2f} s")
        print(f"    prospect row versions written: {_row_versions() - versions:,}")
    else:
        print(f"    CPU: {cpu:.2f} s (SQLite's included)")
    assert report.rescored > N * 0.9 and report.regraded > N * 0.9
    assert SyncQueueItem.objects.count() == report.queued
    _timed("steady state: rescore", rescore)
    _timed("steady state: regrade", regrade)
    started = time.perf_counter()
    again = recompute_scores()
    print(f"  steady state, whole job              {time.perf_counter() - started:6.2f} s")
    assert again.rescored == again.regraded == 0
