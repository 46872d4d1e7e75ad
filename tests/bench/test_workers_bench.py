"""Workers that add up (issue 19): 1, 2 and 4 portal workers pushing N prospects to an org that
answers like a real one — the sandbox's latency fault at 150 ms per call.

Run with ``DATABASE_URL=postgres://… make bench BENCH=tests/bench/test_workers_bench.py``.
BENCH_SCALE_N sets the prospects each round pushes (default 100,000), BENCH_SCALE_LATENCY_MS the
org's latency (default 150), BENCH_SCALE_WORKERS the worker counts (default "1,2,4").
Targets: 2 workers >= 1.8x and 4 workers >= 3.2x one worker's throughput, 0 duplicate Leads.

The workers are real ``rqworker`` processes, started and idle before the clock starts (a
deployment's workers are already running), each given one ``push_pending`` job; the clock stops
when the last job is done. The org is this session's own sandbox with four Bulk API workers,
because Salesforce processes an org's bulk jobs side by side. Beside each round: the portal's
CPU per 1,000 records (workers and their PostgreSQL backends, from ``/proc``) and the org's,
which on a shared machine takes cores the workers would use; and the rows the org's Bulk API
ingested per second while it worked, the most any number of workers can push through it.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import django_rq
import pytest
from rq import Worker
from rq.job import JobStatus

from portal.fake_prospects import make_prospects
from prospects.factories import UserFactory
from prospects.models import SyncQueueItem
from sync.jobs import push_pending
from tests.bench.cpu import SANDBOX_APPLICATION, backends, spent, tree_cpu
from tests.bench.test_sync_bench import production_env
from tests.fixtures.database import database_url
from tests.fixtures.sandbox import start_sandbox, stop_sandbox

ROOT = Path(__file__).resolve().parents[2]
N = int(os.environ.get("BENCH_SCALE_N", "100000"))
LATENCY_MS = int(os.environ.get("BENCH_SCALE_LATENCY_MS", "150"))
COUNTS = [int(c) for c in os.environ.get("BENCH_SCALE_WORKERS", "1,2,4").split(",")]
TARGETS = {2: 1.8, 4: 3.2}
APPLICATION = "leadbridge-bench-worker"
DONE = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


@pytest.fixture(scope="module")
def sandbox_org(tmp_path_factory):
    """An org of this module's own with four Bulk API workers (one would queue the workers'
    jobs behind each other, which Salesforce does not)."""
    before = os.environ.get("SANDBOX_BULK_WORKERS")
    os.environ["SANDBOX_BULK_WORKERS"] = "4"
    try:
        org, process, database = start_sandbox(tmp_path_factory.mktemp("scale-org"))
    finally:
        if before is None:
            os.environ.pop("SANDBOX_BULK_WORKERS")
        else:
            os.environ["SANDBOX_BULK_WORKERS"] = before
    yield org
    stop_sandbox(process, database)


class IdleWorkers:
    """``count`` rqworker processes on the sync queue, waiting for work."""

    def __init__(self, count: int) -> None:
        env = {**production_env(), "DATABASE_APPLICATION_NAME": APPLICATION}
        self.processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "rqworker",
                    "sync",
                    "--name",
                    f"scale-{i}-{os.getpid()}",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for i in range(count)
        ]
        queue = django_rq.get_queue("sync")
        deadline = time.monotonic() + 120
        while len(Worker.all(queue=queue)) < count:
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not start in 2 minutes")
            time.sleep(0.2)

    def cpu(self) -> dict[int, float]:
        cpu: dict[int, float] = {}
        for process in self.processes:
            cpu.update(tree_cpu(process.pid))
        return cpu

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=60)


def push_with(count: int, connector, owner, sandbox_org) -> dict:
    domain = f"scale-{uuid.uuid4().hex[:8]}.example"
    ids = make_prospects(N, owners=[owner], domain=domain, sync=True)
    queue = django_rq.get_queue("sync")
    queue.empty()  # request_sync's wake-ups: the round's jobs are enqueued below
    workers = IdleWorkers(count)
    jobs_before = {job["id"] for job in ingest_jobs(sandbox_org)}
    try:
        cpu, db = workers.cpu(), backends(APPLICATION)
        org, org_db = tree_cpu(sandbox_org.pid), backends(SANDBOX_APPLICATION)
        started = time.perf_counter()
        jobs = [
            queue.enqueue("sync.jobs.push_pending", connector.pk, job_timeout=3600)
            for _ in range(count)
        ]
        while not all(job.get_status(refresh=True) in DONE for job in jobs):
            time.sleep(0.1)
        wall = time.perf_counter() - started
        portal = spent(cpu, workers.cpu()) + spent(db, backends(APPLICATION))
        org_cpu = spent(org, tree_cpu(sandbox_org.pid)) + spent(
            org_db, backends(SANDBOX_APPLICATION)
        )
    finally:
        workers.stop()
    left = SyncQueueItem.objects.filter(prospect_id__in=ids).count()
    round_jobs = [job for job in ingest_jobs(sandbox_org) if job["id"] not in jobs_before]
    leads = lead_rows(sandbox_org, domain)
    emails = {row[0] for row in leads}
    return {
        "workers": count,
        "wall": wall,
        "rate": N / wall,
        "left": left,
        "leads": len(leads),
        "duplicates": len(leads) - len(emails),
        "missing": N - len(emails),
        "portal_per_1k": portal * 1000 / N,
        "portal_cpu": portal,
        "org_cpu": org_cpu,
        "org_ingest": ingest_rate(round_jobs),
    }


def ingest_jobs(sandbox_org) -> list[dict]:
    """The org's Bulk API ingest jobs (JobInfo, as Salesforce lists them)."""
    return sandbox_org.admin().restful("jobs/ingest")["records"]


def ingest_rate(jobs: list[dict]) -> tuple[float, int]:
    """Rows the org's Bulk API processed per second while it processed any (the union of the
    jobs' processing times), and how many jobs it ran at once at most: the org's own ceiling."""
    spans = []
    for job in jobs:
        end = dt.datetime.fromisoformat(job["systemModstamp"].replace("+0000", "+00:00"))
        spans.append((end - dt.timedelta(milliseconds=job["totalProcessingTime"]), end))
    busy, most, reach = dt.timedelta(), 0, None
    for start, end in sorted(spans):
        if reach is None or start >= reach:
            busy += end - start
            reach = end
        elif end > reach:
            busy += end - reach
            reach = end
        most = max(most, sum(1 for s, e in spans if s <= start < e))
    rows = sum(job["numberRecordsProcessed"] for job in jobs)
    return (rows / busy.total_seconds() if busy else 0.0), most


def lead_rows(sandbox_org, domain: str) -> list[tuple[str, str]]:
    """(email, external id) of every Lead under the round's email domain."""
    sf = sandbox_org.admin()
    result = sf.query_all(
        f"SELECT Email, pi__Pardot_Prospect_Id__c FROM Lead WHERE Email LIKE '%@{domain}'"
    )
    return [(r["Email"], r["pi__Pardot_Prospect_Id__c"]) for r in result["records"]]


@pytest.mark.django_db(transaction=True)
def test_bench_workers_add_up(connector, sandbox_org):
    sandbox_org.control("set_org", daily_api_limit=100_000_000)
    owner = UserFactory(username="alice", email="alice@acme.example")
    # Describes cached, as for a deployment's workers that have pushed before.
    make_prospects(1, owners=[owner], sync=True)
    push_pending(connector.pk)
    sandbox_org.control("set_faults", latency_ms=LATENCY_MS)
    rounds = []
    try:
        for count in COUNTS:
            rounds.append(push_with(count, connector, owner, sandbox_org))
    finally:
        sandbox_org.control("clear_faults")
    one = rounds[0]["rate"]
    print()
    print(
        f"{N:,} prospects per round, org latency {LATENCY_MS} ms per call, "
        f"portal DB {database_url().split(':')[0]}"
    )
    print(
        f"{'workers':>7} {'wall s':>7} {'rec/s':>7} {'x one':>6} {'target':>7} {'dupes':>5} "
        f"{'missing':>7} {'queue left':>10} {'portal CPU s/1k':>15} {'org CPU s':>9} "
        f"{'org Bulk rows/s':>15}"
    )
    for r in rounds:
        ratio = r["rate"] / one
        target = TARGETS.get(r["workers"])
        mark = "" if target is None else ("met" if ratio >= target else "MISSED")
        print(
            f"{r['workers']:>7} {r['wall']:>7.1f} {r['rate']:>7.0f} {ratio:>6.2f} "
            f"{'>= ' + str(target) if target else '':>7} {r['duplicates']:>5} {r['missing']:>7} "
            f"{r['left']:>10} {r['portal_per_1k']:>15.3f} {r['org_cpu']:>9.1f} "
            f"{r['org_ingest'][0]:>8,.0f} ({r['org_ingest'][1]} at once)  {mark}"
        )
    # What this machine allows: one worker's round took `wall` s and needed this much CPU (the
    # portal's and the org's, which here share the cores); more workers cannot finish sooner
    # than that CPU spread over every core — less on a machine others use too.
    cores = os.cpu_count() or 1
    first = rounds[0]
    ceiling = first["wall"] / ((first["portal_cpu"] + first["org_cpu"]) / cores)
    print(
        f"CPU ceiling on this machine ({cores} cores, load average "
        f"{os.getloadavg()[0]:.1f}): at most {ceiling:.2f}x one worker, however many workers"
    )
    # And what the org allows: its Bulk API ingests so many rows a second while it works, at
    # its best with several jobs side by side; workers cannot push faster than that.
    best = max(r["org_ingest"][0] for r in rounds)
    print(
        f"Org ceiling: its Bulk API ingested at most {best:,.0f} rows/s while busy "
        f"(shown per round), {best / one:.2f}x one worker's rate"
    )
    for r in rounds:
        assert r["duplicates"] == 0, f"{r['workers']} workers made {r['duplicates']} duplicates"
        assert r["missing"] == 0 and r["left"] == 0, f"{r['workers']} workers left prospects"
