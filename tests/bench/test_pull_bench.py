"""Inbound pull benchmark (issue 6): N changed Leads, each linked to a prospect, pulled back.

Run with `make bench BENCH=tests/bench/test_pull_bench.py` (PostgreSQL: set DATABASE_URL; the
sandbox org on PostgreSQL: SANDBOX_DATABASE_URL). BENCH_PULL_N sets the lead count (default
100,000; N/10 runs too), BENCH_PULL_REPEATS how many times each size runs (the median is shown), BENCH_PULL_PROFILE a
folder for a cProfile of each pull.
Anchor: 100,000 changed Leads pulled in <= 60 s, the sandbox on the same machine.
"""

import contextlib
import cProfile
import os
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import psutil
import pytest
from django.utils import timezone

from prospects.factories import ProspectFactory
from prospects.models import Prospect
from sync.engine.inbound import OVERLAP, pull_changes
from sync.engine.values import parse_sf_datetime
from sync.models import SyncCursor
from sync.salesforce import Client

N = int(os.environ.get("BENCH_PULL_N", "100000"))
REPEATS = int(os.environ.get("BENCH_PULL_REPEATS", "1"))
TARGET_N, TARGET_S = 100_000, 60


@contextlib.contextmanager
def profiled(name: str) -> Iterator[None]:
    """With BENCH_PULL_PROFILE=dir, write a cProfile of each pull there (``pull-<n>.prof``)."""
    folder = os.environ.get("BENCH_PULL_PROFILE")
    if not folder:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(os.path.join(folder, f"pull-{name}.prof"))


class PeakRss:
    """The peak resident memory of this process (the portal worker) while it is sampled."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.05)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def seed_linked_leads(sandbox_org, connector, n: int) -> None:
    """N new leads in the sandbox, a prospect linked to each, and the cursor just before them."""
    prefix = f"pull{uuid.uuid4().hex[:6]}-"
    client = Client.for_connector(connector)
    sandbox_org.control("seed_leads", count=n, prefix=prefix)
    rows = list(
        client.bulk_query(f"SELECT Id, SystemModstamp FROM Lead WHERE Email LIKE '{prefix}%'")
    )
    for start in range(0, len(rows), 5000):
        Prospect.objects.bulk_create(
            [ProspectFactory.build(crm_lead_id=row["Id"]) for row in rows[start : start + 5000]],
            batch_size=5000,
        )
    # The seed stamps every lead alike; the pull reads from just before it, so earlier rounds'
    # leads (seconds older) stay out of this one.
    stamp = parse_sf_datetime(rows[0]["SystemModstamp"])
    SyncCursor.objects.update_or_create(
        connector=connector,
        sobject="Lead",
        defaults={"watermark": stamp + OVERLAP - timedelta(seconds=1)},
    )


@pytest.mark.django_db(transaction=True)
def test_bench_pull_changes(connector, sandbox_org):
    sandbox_org.control("set_org", daily_api_limit=10_000_000)
    SyncCursor.objects.create(connector=connector, sobject="Contact", watermark=None)
    rows = []
    for n in (N // 10, N):
        runs = []
        for _ in range(REPEATS):
            seed_linked_leads(sandbox_org, connector, n)
            SyncCursor.objects.filter(connector=connector, sobject="Contact").update(
                watermark=timezone.now()
            )
            with PeakRss() as rss, profiled(f"{n}"):
                cpu = rss.process.cpu_times()
                started = time.perf_counter()
                report = pull_changes(connector=connector)
                elapsed = time.perf_counter() - started
                cpu = sum(rss.process.cpu_times()[:2]) - sum(cpu[:2])
            assert report.seen >= n
            runs.append((elapsed, report, rss.peak, cpu))
        rows.append((n, runs))
    print()
    print(
        f"{'leads':>8} {'runs':>4} {'median s':>9} {'rec/s':>8} {'CPU s':>6} {'updated':>8} "
        f"{'calls':>6} {'bulk':>4} {'peak RSS MB':>11}   anchor"
    )
    for n, runs in rows:
        elapsed = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[3] for r in runs)
        report = runs[-1][1]
        anchor = TARGET_S * n / TARGET_N
        print(
            f"{n:>8,} {len(runs):>4} {elapsed:>9.1f} {n / elapsed:>8,.0f} {cpu:>6.1f} "
            f"{report.updated:>8,} {report.api_calls:>6} {report.bulk_jobs:>4} {max(r[2] for r in runs) / 2**20:>11.0f}"
            f"   <= {anchor:.0f} s ({TARGET_N / TARGET_S:,.0f} rec/s)"
        )
    print(
        f"anchor: {TARGET_N:,} changed Leads pulled in <= {TARGET_S} s (issue 6); CPU s is the "
        "portal worker's own (user + system), the sandbox and PostgreSQL excluded"
    )
