"""A million prospects, and ``make run``'s own setup (issue 19, measures 3 and 4). Opt-in sizes.

Not for the shared machine at full size: each test runs only when its size variable is set.

- ``BENCH_MILLION_N=1000000`` (PostgreSQL: ``DATABASE_URL`` and ``SANDBOX_DATABASE_URL``):
  N assigned prospects pushed by one ``rqworker`` (target <= 10 minutes at 1,000,000), N Leads
  changed in Salesforce pulled (<= 10 minutes), the worker's peak RSS at N/10 and at N (flat:
  within 10 %); and on N prospects the prospect list, the Sync Errors table and the ROI report
  (when it exists) <= 200 / 300 / 500 ms median. ``SANDBOX_BULK_WORKERS=2`` runs the setup's
  edit of N Leads in Salesforce as two Bulk jobs side by side (a million took 45 min as one).
- ``BENCH_SETUP_N=20000`` (no ``DATABASE_URL``: SQLite for the portal and the sandbox, the
  embedded Redis, one worker and the cron, as ``make run`` starts them): N prospects queued at
  once reach the org at >= 1,000 records/s, the wait for the cron tick included.

The 100,000 push on PostgreSQL (median of 3 <= 60 s) is ``BENCH_PUSH_N=100000 make bench
BENCH=tests/bench/test_sync_bench.py``, run three times.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import django_rq
import psutil
import pytest
from django.db import connection
from django.urls import NoReverseMatch, reverse

from portal.fake_prospects import make_prospects
from prospects.factories import UserFactory
from prospects.models import Prospect, SyncQueueItem, SyncStatus
from sync.models import Connector, SyncError
from tests.bench.test_cost_bench import Probe, edit_in_salesforce
from tests.bench.test_errors_bench import _default_sql
from tests.bench.test_sync_bench import Workers
from tests.conftest import user_with_role
from tests.fixtures.database import database_url

ROOT = Path(__file__).resolve().parents[2]
MILLION_N = int(os.environ.get("BENCH_MILLION_N", "0"))
SETUP_N = int(os.environ.get("BENCH_SETUP_N", "0"))
PUSH_TARGET_S = PULL_TARGET_S = 600  # at 1,000,000
PAGE_TARGETS_MS = {"prospect list": 200, "Sync Errors": 300, "ROI report": 500}

million = pytest.mark.skipif(not MILLION_N, reason="set BENCH_MILLION_N (e.g. 1000000) to run")


class PeakRss:
    """The peak RSS of a process and its children while sampled (every 0.2 s)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                tree = psutil.Process(self.pid)
                rss = sum(p.memory_info().rss for p in [tree, *tree.children(recursive=True)])
                self.peak = max(self.peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.2)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def push_with_one_worker(connector) -> Workers:
    """One ``rqworker --burst`` pushing the whole queue (a long queue is the cron's to push:
    its job is enqueued here, as the tick would)."""
    queue = django_rq.get_queue("sync")
    queue.empty()
    queue.enqueue("sync.jobs.push_pending", connector.pk, job_timeout=7200)
    pool = Workers(1)
    pool.wait(timeout=7200)
    return pool


@million
@pytest.mark.django_db(transaction=True)
def test_bench_million_push_and_pull(connector, sandbox_org):
    sandbox_org.control("set_org", daily_api_limit=100_000_000)
    owner = UserFactory(username="alice", email="alice@acme.example")
    make_prospects(1, owners=[owner], sync=True)
    push_with_one_worker(connector)  # describes cached, as for a worker that has pushed before
    rows = []
    for n in (MILLION_N // 10, MILLION_N):
        ids = make_prospects(n, owners=[owner], sync=True)
        started = time.perf_counter()
        pool = push_with_one_worker(connector)
        push_s = time.perf_counter() - started
        synced = Prospect.objects.filter(pk__in=ids, sync_status=SyncStatus.SYNCED).count()
        assert synced == n, f"push of {n}: only {synced} synced"
        edit_in_salesforce(sandbox_org, connector, ids)
        probe = Probe()
        rss = PeakRss(probe.pid)
        started = time.perf_counter()
        result = probe.run({"do": "pull", "connector": connector.pk})
        pull_s = time.perf_counter() - started
        pull_rss = rss.stop()
        probe.close()
        assert result["updated"] >= n, result
        rows.append((n, push_s, pool.peak_rss, pull_s, pull_rss))
    print(f"\nportal DB {connection.vendor}; targets at 1,000,000: push and pull <= 10 min each")
    print(
        f"{'prospects':>10} {'push s':>8} {'rec/s':>7} {'target s':>8} {'push RSS MB':>11} "
        f"{'pull s':>8} {'rec/s':>7} {'target s':>8} {'pull RSS MB':>11}"
    )
    for n, push_s, push_rss, pull_s, pull_rss in rows:
        target = PUSH_TARGET_S * n / 1_000_000
        print(
            f"{n:>10,} {push_s:>8.1f} {n / push_s:>7.0f} {target:>8.0f} {push_rss / 2**20:>11.0f} "
            f"{pull_s:>8.1f} {n / pull_s:>7.0f} {target:>8.0f} {pull_rss / 2**20:>11.0f}"
        )
    (_, _, small_push, _, small_pull), (_, _, big_push, _, big_pull) = rows
    print(
        f"RSS at {MILLION_N:,} vs {MILLION_N // 10:,}: push {big_push / small_push:.2f}x, "
        f"pull {big_pull / small_pull:.2f}x (target: flat, within 10 %)"
    )


def errors_sql() -> str:
    """INSERT one open data-formatting Sync Error for every tenth prospect."""
    values = {
        "prospect_id": "id",
        "prospect_email": "email",
        "direction": "'outbound'",
        "operation": "'update'",
        "sobject": "'Lead'",
        "error_code": "'STRING_TOO_LONG'",
        "category": "'data_formatting'",
        "field": "'Title'",
        "fields": "'[\"Title\"]'::jsonb",
        "message": "'Title: data value too large'",
        "value_sent": "job_title",
        "attempts": "1",
    }
    fields = [f for f in SyncError._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    selected = ", ".join(values.get(f.column, _default_sql(f)) for f in fields)
    return (
        f"INSERT INTO sync_syncerror ({columns}) SELECT {selected} "
        "FROM prospects_prospect WHERE id % 10 = 0"
    )


def _median_ms(client, url: str, runs: int = 7) -> float:
    for _ in range(2):
        assert client.get(url).status_code == 200
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.median(times)


@million
@pytest.mark.django_db(transaction=True)
def test_bench_million_pages(client):
    owners = [UserFactory(username=f"owner{i}") for i in range(5)]
    started = time.perf_counter()
    make_prospects(MILLION_N, owners=[*owners, None])
    made = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # one open error on every tenth prospect
            cursor.execute(errors_sql())
            cursor.execute("VACUUM ANALYZE prospects_prospect")
            cursor.execute("VACUUM ANALYZE sync_syncerror")
    client.force_login(user_with_role("bench-marketer", "Marketer"))
    pages = {"prospect list": ("prospects:list", "")}
    pages["prospect list, search"] = ("prospects:list", "?q=smith")
    pages["Sync Errors"] = ("sync:errors", "")
    pages["ROI report"] = ("reports:roi", "")
    print(f"\n{MILLION_N:,} prospects made in {made:.1f} s on {connection.vendor}")
    for label, (name, query) in pages.items():
        try:
            url = reverse(name) + query
        except NoReverseMatch:
            print(f"{label:<24} not built yet")
            continue
        target = PAGE_TARGETS_MS[label.split(",")[0]]
        ms = _median_ms(client, url)
        print(f"{label:<24} {ms:8.1f} ms median   target <= {target} ms")


@pytest.mark.skipif(not SETUP_N, reason="set BENCH_SETUP_N (e.g. 20000) to run")
@pytest.mark.django_db(transaction=True)
def test_bench_make_run_setup(connector, sandbox_org):
    """``make run``'s stack: one worker (the Procfile's) and the cron; N prospects queued at
    once, as an import would; the clock runs from the queueing to the last one synced."""
    if connection.vendor != "sqlite":
        pytest.skip("make run's setup is SQLite: run without DATABASE_URL")
    sandbox_org.control("set_org", daily_api_limit=100_000_000)
    Connector.objects.filter(pk=connector.pk).update(sync_interval=30)  # the demo's interval
    owner = UserFactory(username="alice", email="alice@acme.example")
    env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "true"}
    stack = [
        subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for args in (
            ["rqworker", "default", "sync", "--with-scheduler"]
            + ["--worker-class", "core.worker.Worker"],  # the Procfile's
            ["rqcron", "portal.cron"],
        )
    ]
    try:
        make_prospects(1, owners=[owner], sync=True)  # the first tick: describes cached
        _wait(lambda: not SyncQueueItem.objects.exists(), timeout=180)
        ids = make_prospects(SETUP_N, owners=[owner], sync=True)
        started = time.perf_counter()
        first = None
        # Cheap checks (the queue holds only this round's rows): the poll must not load the
        # database the worker writes to.
        while SyncQueueItem.objects.exists():
            if (
                first is None
                and Prospect.objects.filter(pk=ids[0], sync_status=SyncStatus.SYNCED).exists()
            ):
                first = time.perf_counter() - started
            if time.perf_counter() - started > 1800:
                raise AssertionError("not synced in 30 minutes")
            time.sleep(0.25)
        total = time.perf_counter() - started
    finally:
        for process in stack:
            process.terminate()
        for process in stack:
            process.wait(timeout=60)
    synced = Prospect.objects.filter(pk__in=ids, sync_status=SyncStatus.SYNCED).count()
    print(
        f"\nmake run's setup (SQLite portal and org, Redis {os.environ.get('REDIS_URL', '')},"
        " 1 worker, cron every 10 s,"
        f" connector interval 30 s): {SETUP_N:,} queued at once, {synced:,} synced in "
        f"{total:.1f} s = {SETUP_N / total:,.0f} rec/s (target >= 1,000 rec/s, tick included);"
        f" first synced after {first or 0:.1f} s"
    )


def _wait(done, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.25)
