"""Sync engine benchmarks (issue 6). Run with `make bench` (PostgreSQL: set DATABASE_URL).

Each prints its figure beside the anchor: the guide's 12,000 records/hour and 2–4 minutes.
BENCH_PUSH_N sets the prospect count (default 100,000). The pull is in test_pull_bench.py.
"""

import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import django_rq
import psutil
import pytest
from django.conf import settings

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect, SyncQueueItem, SyncReason, SyncStatus
from prospects.sync_requests import request_sync, request_sync_many
from tests.fixtures.database import database_url

ROOT = Path(__file__).resolve().parents[2]
N = int(os.environ.get("BENCH_PUSH_N", "100000"))
GUIDE_PER_HOUR = 12_000


def production_env() -> dict[str, str]:
    """The environment of a worker as production runs it: ``DEBUG`` off, with this test run's
    own secrets (the connector's are encrypted with its key). With ``DEBUG`` on, Django keeps
    the last 9,000 statements a process sent, with their parameters: a push's statements carry
    thousands of ids each, so that log alone grew a worker by about 90 MB over a million."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
    }


class Workers:
    """Real `rqworker` processes, run as production runs them; samples their peak RSS (the
    worker and its work horse, each on its own)."""

    def __init__(self, count: int, *, burst: bool = True) -> None:
        env = production_env()
        args = [sys.executable, "manage.py", "rqworker", "sync"] + (["--burst"] if burst else [])
        self.processes = [
            subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            for _ in range(count)
        ]
        self.peak_rss = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            for process in self.processes:
                try:
                    tree = psutil.Process(process.pid)
                    for p in [tree, *tree.children(recursive=True)]:
                        self.peak_rss = max(self.peak_rss, p.memory_info().rss)
                except psutil.Error:
                    pass
            time.sleep(0.2)

    def wait(self, timeout: float = 1800) -> None:
        for process in self.processes:
            process.wait(timeout=timeout)
        self._stop.set()

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        self.wait(timeout=30)


def make_prospects(n: int, owner) -> tuple[str, list[int]]:
    domain = f"bench-{uuid.uuid4().hex[:8]}.example"
    for start in range(0, n, 5000):
        Prospect.objects.bulk_create(
            [
                ProspectFactory.build(email=f"p{i}@{domain}", assigned_user=owner)
                for i in range(start, min(n, start + 5000))
            ],
            batch_size=5000,
        )
    ids = list(Prospect.objects.filter(email__endswith=domain).values_list("pk", flat=True))
    return domain, ids


def api_used(sandbox_org) -> int:
    limits = sandbox_org.admin().limits()["DailyApiRequests"]
    return limits["Max"] - limits["Remaining"]


def push_all(connector, ids, workers: int) -> tuple[float, int]:
    request_sync_many(ids, SyncReason.INITIAL_SYNC)
    queue = django_rq.get_queue("sync")
    queue.empty()
    for _ in range(workers):
        queue.enqueue("sync.jobs.push_pending", connector.pk, job_timeout=3600)
    started = time.perf_counter()
    pool = Workers(workers)
    pool.wait()
    elapsed = time.perf_counter() - started
    assert not SyncQueueItem.objects.filter(prospect_id__in=ids).exists()
    return elapsed, pool.peak_rss


@pytest.mark.django_db(transaction=True)
def test_bench_initial_push(connector, sandbox_org):
    """Initial push of assigned prospects to new Leads, email matching on, real rqworkers.

    Rows: the Collections path (1,000 prospects: one batch of Composite calls), then the bulk
    path at N/10 and N with one worker, and N/10 with two workers.
    """
    connector.match_by_email = True
    connector.save()
    owner = UserFactory(username="alice", email="alice@acme.example")
    sandbox_org.control("set_org", daily_api_limit=10_000_000)
    # A worker that has pushed before has the describes cached (15 minutes): warm them up.
    _, ids = make_prospects(1, owner)
    push_all(connector, ids, 1)
    rows = []
    for path, n, workers in (
        ("collections", 1000, 1),
        ("bulk", N // 10, 1),
        ("bulk", N, 1),
        ("bulk", N // 10, 2),
    ):
        _, ids = make_prospects(n, owner)
        before = api_used(sandbox_org)
        elapsed, rss = push_all(connector, ids, workers)
        calls = api_used(sandbox_org) - before - 1
        synced = Prospect.objects.filter(pk__in=ids, sync_status=SyncStatus.SYNCED).count()
        leads = Prospect.objects.filter(pk__in=ids).exclude(crm_lead_id="")
        distinct = leads.values("crm_lead_id").distinct().count()
        # A figure is worth printing only if the push did its job: every prospect a Lead of its own.
        assert synced == n, f"{path} x{workers}: only {synced} of {n} prospects synced"
        assert distinct == n, f"{path} x{workers}: {n - distinct} prospects share a Lead"
        rows.append((path, n, workers, elapsed, n / elapsed, calls, rss, synced))
    print()
    print(
        f"{'path':>11} {'prospects':>10} {'workers':>7} {'wall s':>8} {'rec/s':>8} "
        f"{'x guide':>8} {'calls':>6} {'calls/1k':>8} {'peak RSS MB':>11}"
    )
    for path, n, workers, elapsed, rate, calls, rss, synced in rows:
        print(
            f"{path:>11} {n:>10} {workers:>7} {elapsed:>8.1f} {rate:>8.0f} "
            f"{rate * 3600 / GUIDE_PER_HOUR:>8.0f} {calls:>6} {calls * 1000 / n:>8.1f} "
            f"{rss / 2**20:>11.0f}   (synced {synced}/{n})"
        )
    two = rows[3][4] / rows[1][4]
    print(
        f"anchor: the guide's {GUIDE_PER_HOUR:,} records/hour = {GUIDE_PER_HOUR / 3600:.1f} rec/s;"
        f" target 100,000 in <= 60 s (>= 500x), <= 5 calls/1k on Collections, fewer on bulk,"
        f" worker RSS <= 300 MB and flat; 2 workers vs 1 at {N // 10:,}: {two:.2f}x"
    )


@pytest.mark.django_db(transaction=True)
def test_bench_trigger_latency(connector, sandbox_org):
    """One triggered prospect reaching Salesforce with an idle worker (guide: 2-4 minutes)."""
    owner = UserFactory(username="alice", email="alice@acme.example")
    pool = Workers(1, burst=False)
    time.sleep(3)  # worker idle and listening
    latencies = []
    try:
        for _ in range(20):
            prospect = ProspectFactory(assigned_user=owner)
            started = time.perf_counter()
            request_sync(prospect, SyncReason.FIELD_UPDATE)  # autocommit: wakes at once
            while True:
                prospect.refresh_from_db(fields=["sync_status", "crm_lead_id"])
                if prospect.crm_lead_id:
                    break
                if time.perf_counter() - started > 30:
                    raise AssertionError("prospect did not reach Salesforce in 30 s")
                time.sleep(0.01)
            latencies.append(time.perf_counter() - started)
    finally:
        pool.stop()
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"\ntrigger → Salesforce: median {statistics.median(latencies):.2f} s, p95 {p95:.2f} s "
        f"(n={len(latencies)}); anchor: the guide's 2–4 minutes, target p95 <= 2 s"
    )
