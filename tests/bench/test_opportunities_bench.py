"""Opportunities pull benchmark (issue 16): N opportunities with 2N contact roles, the N contacts
each synced by a prospect, mirrored from scratch by one ``pull_opportunities`` (scoring included:
every linked prospect earns "Opportunity created", and "won"/"lost" where closed).

Run with `make bench BENCH=tests/bench/test_opportunities_bench.py` (PostgreSQL: set
DATABASE_URL and SANDBOX_DATABASE_URL). BENCH_OPPS_N sets N (default 100,000), BENCH_OPPS_REPEATS
how many runs (median shown; each run seeds its own org data), BENCH_OPPS_PROFILE a folder for a
cProfile of each pull. Beside the wall clock, the CPU each party spent on the pull: this process
(the worker), its PostgreSQL backend, and the sandbox org (its processes and backends) — on a
shared machine the CPU, not the wall clock, says what a change saved.
Target: 100,000 opportunities and 200,000 contact roles pulled in <= 90 s.
"""

import contextlib
import cProfile
import os
import statistics
import time
import uuid
from collections.abc import Iterator

import pytest
from django.db import connection

from crm.models import ContactRoleScan, Opportunity, OpportunityContactRole, OpportunityEvent
from prospects.factories import ProspectFactory
from prospects.models import Activity, Prospect, SyncQueueItem
from sync.engine.opportunities import pull_opportunities
from sync.models import SyncCursor
from tests.bench.cpu import SANDBOX_APPLICATION, backends, process_cpu, spent, tree_cpu

N = int(os.environ.get("BENCH_OPPS_N", "100000"))
REPEATS = int(os.environ.get("BENCH_OPPS_REPEATS", "1"))
TARGET_N, TARGET_S = 100_000, 90
SEED_CHUNK = 10_000


@contextlib.contextmanager
def profiled(name: str) -> Iterator[None]:
    folder = os.environ.get("BENCH_OPPS_PROFILE")
    if not folder:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(os.path.join(folder, f"opportunities-{name}.prof"))


def fresh_mirror() -> None:
    """Each run pulls from scratch: no mirror, no scans, no cursor, no earlier prospects."""
    OpportunityEvent.objects.all().delete()
    OpportunityContactRole.objects.all().delete()
    Opportunity.objects.all().delete()
    ContactRoleScan.objects.all().delete()
    SyncCursor.objects.filter(sobject="Opportunity").delete()
    Activity.objects.all().delete()
    SyncQueueItem.objects.all().delete()
    Prospect.objects.all().delete()


def seed(sandbox_org, n: int) -> None:
    """N contacts and opportunities (2N roles) in the org; a prospect syncing with each contact."""
    contacts: list[str] = []
    for start in range(0, n, SEED_CHUNK):  # one control call each: under its request timeout
        contacts += sandbox_org.control(
            "seed_opportunities",
            count=min(SEED_CHUNK, n - start),
            roles=2,
            prefix=f"opp{uuid.uuid4().hex[:6]}-",
        )["contacts"]
    for start in range(0, len(contacts), 5000):
        Prospect.objects.bulk_create(
            [ProspectFactory.build(crm_contact_id=c) for c in contacts[start : start + 5000]],
            batch_size=5000,
        )


def own_backend() -> dict[int, float]:
    """The CPU of this process's PostgreSQL backend (none on SQLite: it works in-process)."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return {pid: process_cpu(pid)}


def cpu_snapshot(sandbox_pid: int) -> tuple:
    return (
        time.process_time(),
        own_backend(),
        tree_cpu(sandbox_pid),
        backends(SANDBOX_APPLICATION),
    )


def cpu_spent(before: tuple, after: tuple) -> tuple[float, float, float]:
    """Seconds of CPU: the worker, its database backend, the sandbox org (processes + DB)."""
    return (
        after[0] - before[0],
        spent(before[1], after[1]),
        spent(before[2], after[2]) + spent(before[3], after[3]),
    )


@pytest.mark.django_db(transaction=True)
def test_bench_pull_opportunities(connector, sandbox_org):
    sandbox_org.control("set_org", daily_api_limit=10_000_000)
    runs = []
    for index in range(REPEATS):
        fresh_mirror()
        seed(sandbox_org, N)
        before = cpu_snapshot(sandbox_org.pid)
        with profiled(str(index)):
            started = time.perf_counter()
            report = pull_opportunities(connector=connector)
            elapsed = time.perf_counter() - started
        cpu = cpu_spent(before, cpu_snapshot(sandbox_org.pid))
        # Earlier runs' seeds stay in the org but no prospect syncs with their contacts.
        assert report.opportunities == N
        assert report.roles >= 2 * N
        assert OpportunityContactRole.objects.filter(prospect__isnull=False).count() == 2 * N
        runs.append((elapsed, report, cpu))
    median = statistics.median(r[0] for r in runs)
    report = runs[-1][1]
    anchor = TARGET_S * N / TARGET_N
    print()
    print(f"{'opps':>8} {'roles':>8} {'runs':>4} {'median s':>9} {'scored':>8}   target")
    print(
        f"{N:>8,} {report.roles:>8,} {len(runs):>4} {median:>9.1f} {report.scored:>8,}"
        f"   <= {anchor:.0f} s"
    )
    for elapsed, _, (worker, database, org) in runs:
        print(
            f"  run {elapsed:6.1f} s wall; CPU: worker {worker:6.1f} s, its database "
            f"{database:6.1f} s, sandbox org {org:6.1f} s; load {os.getloadavg()[0]:.1f}"
        )
    print(
        f"target: {TARGET_N:,} opportunities and {2 * TARGET_N:,} contact roles pulled in "
        f"<= {TARGET_S} s (issue 16); runs: {', '.join(f'{r[0]:.1f}' for r in runs)} s"
    )
