"""The portal's own cost per record (issue 19): CPU seconds per 1,000 records pushed and pulled.

Run with ``DATABASE_URL=postgres://… make bench BENCH=tests/bench/test_cost_bench.py``
(``SANDBOX_DATABASE_URL=postgres://…`` puts the sandbox org on PostgreSQL too). BENCH_COST_N
sets the record count (default 20,000); BENCH_COST_PROFILE=<dir> samples the worker with py-spy
during each measure (its CPU only: idle and waiting threads are left out), keeps the collapsed
stacks there and prints the top 10 functions by own CPU time; BENCH_COST_SQL=1 prints the
portal database's CPU by statement.

Against a real org, Salesforce's work happens on Salesforce's machines; what Leadbridge pays
for is its worker and its database. Each is measured by per-process accounting from ``/proc``
(user + system time, children included), not wall-clock time, so other load on the machine
does not count:

- *worker*: a portal worker process (``tests/bench/cost_probe.py``: Django set up once, as a
  long-running ``rqworker`` is) running ``push_pending`` or ``pull_changes``;
- *portal DB*: the PostgreSQL backends serving it, found in ``pg_stat_activity`` by their
  ``application_name`` (``DATABASE_APPLICATION_NAME``). On SQLite the database works inside the
  worker, so its cost is in the worker's figure;
- *sandbox*: the org's web server and bulk worker, and its PostgreSQL backends — shown apart,
  never counted in the portal's cost.

Measures: the initial push of N assigned prospects (new Leads, Bulk API 2.0), a push of an
edit to each of them (Collections updates of linked Leads), and a pull of those N Leads changed
in Salesforce (each opted out of email: a change Salesforce's value wins). Targets: <= 0.15 s per 1,000 pushed, <= 0.10 s per 1,000 pulled.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from portal.fake_prospects import make_prospects
from prospects.factories import UserFactory
from prospects.models import Prospect, SyncQueueItem, SyncReason, SyncStatus
from prospects.sync_requests import request_sync_many
from sandbox.testserver import bulk_workers
from sync import bulk_sql
from sync.models import SyncCursor
from tests.bench.cpu import SANDBOX_APPLICATION, backends, spent, tree_cpu
from tests.fixtures.database import database_url

ROOT = Path(__file__).resolve().parents[2]
N = int(os.environ.get("BENCH_COST_N", "20000"))
PROFILE_DIR = os.environ.get("BENCH_COST_PROFILE", "")
TARGET_PUSH, TARGET_PULL = 0.15, 0.10  # CPU seconds per 1,000 records


class Probe:
    """The portal worker under measurement (``tests/bench/cost_probe.py``)."""

    def __init__(self) -> None:
        self.application_name = f"leadbridge-cost-{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DATABASE_APPLICATION_NAME": self.application_name,
            "DEBUG": "true",  # for the settings' local defaults; the probe turns the query log off
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.cost_probe"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pid = json.loads(self.process.stdout.readline())["ready"]

    def run(self, command: dict) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the probe died running {command}")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.write(json.dumps({"do": "quit"}) + "\n")
        self.process.stdin.close()
        self.process.wait(timeout=30)


@dataclass
class Cost:
    name: str
    records: int
    wall: float
    worker: float
    portal_db: float
    sandbox: float
    result: dict
    updated: int = 0  # prospect row updates (PostgreSQL) ...
    hot: int = 0  # ... of which HOT

    @property
    def portal(self) -> float:
        return self.worker + self.portal_db

    def per_1k(self) -> float:
        return self.portal * 1000 / self.records


def prospect_updates() -> tuple[int, int]:
    """PostgreSQL's count of prospect row updates, and of those that were HOT (in place on
    their page, no index written). A backend reports its counts within a second of going idle."""
    if connection.vendor != "postgresql":
        return 0, 0
    time.sleep(2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = %s::regclass",
            [Prospect._meta.db_table],
        )
        return cursor.fetchone()


def measure(name: str, records: int, probe: Probe, sandbox_pid: int, command: dict) -> Cost:
    """Run one command in the probe; the CPU each party spent on it."""
    updates = prospect_updates()
    snap = (tree_cpu(probe.pid), backends(probe.application_name))
    org = (tree_cpu(sandbox_pid), backends(SANDBOX_APPLICATION))
    spy = Spy(probe.pid, name) if PROFILE_DIR else None
    started = time.perf_counter()
    result = probe.run(command)
    wall = time.perf_counter() - started
    if spy:
        spy.stop()
    worker = spent(snap[0], tree_cpu(probe.pid))
    portal_db = spent(snap[1], backends(probe.application_name))
    sandbox = spent(org[0], tree_cpu(sandbox_pid)) + spent(org[1], backends(SANDBOX_APPLICATION))
    updated, hot = (b - a for a, b in zip(updates, prospect_updates(), strict=True))
    return Cost(name, records, wall, worker, portal_db, sandbox, result, updated, hot)


def edit_each(ids: list[int]) -> None:
    """A marketer's edit on every prospect (job title), stamped as the edit form stamps it."""
    now = timezone.now()
    for start in range(0, len(ids), 5000):
        chunk = list(Prospect.objects.filter(pk__in=ids[start : start + 5000]))
        for prospect in chunk:
            prospect.job_title = f"{prospect.job_title[:100]} (lead)"
            prospect.stamp_changes(["job_title"], now)
        bulk_sql.update(Prospect, chunk, ["job_title", "field_changed_at"])
    request_sync_many(ids, SyncReason.FIELD_UPDATE)


def edit_in_salesforce(sandbox_org, connector, ids: list[int]) -> None:
    """Each pushed lead opted out of email in Salesforce (Bulk API 2.0, as the org's admin): a
    change Salesforce wins ("most recently updated"), so the pull writes every prospect and
    sends nothing back. The cursor is moved to just before the edit."""
    leads = list(Prospect.objects.filter(pk__in=ids).values_list("crm_lead_id", flat=True))
    SyncCursor.objects.update_or_create(
        connector=connector, sobject="Lead", defaults={"watermark": timezone.now()}
    )
    SyncCursor.objects.update_or_create(
        connector=connector, sobject="Contact", defaults={"watermark": timezone.now()}
    )
    # One job per bulk worker the org runs (SANDBOX_BULK_WORKERS), side by side: a million
    # updates in one job is most of the million bench's setup.
    jobs = bulk_workers()
    size = -(-len(leads) // jobs)

    def update(chunk: list[str]) -> None:
        sandbox_org.admin().bulk2.Lead.update(
            records=[{"Id": lead, "HasOptedOutOfEmail": "true"} for lead in chunk], wait=1
        )

    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(update, [leads[i : i + size] for i in range(0, len(leads), size)]))


class Spy:
    """py-spy sampling one process (100 Hz, CPU only) into ``<PROFILE_DIR>/<name>.txt``."""

    def __init__(self, pid: int, name: str) -> None:
        self.path = os.path.join(PROFILE_DIR, f"{name.replace(' ', '-')}.txt")
        spy = Path(sys.executable).with_name("py-spy")
        self.process = subprocess.Popen(
            [spy, "record", "--pid", str(pid), "--rate", "100", "--function", "--gil"]
            + ["--format", "raw", "--output", self.path],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)  # attached before the command starts

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)


def top10(name: str) -> None:
    """The ten functions with the most samples of their own, and the share of all samples."""
    path = os.path.join(PROFILE_DIR, f"{name.replace(' ', '-')}.txt")
    own: Counter = Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frame = stack.rsplit(";", 1)[-1]
        own[frame] += int(count)
        total += int(count)
    print(f"\n--- {name}: top 10 functions by own CPU samples ({total} samples, {path}) ---")
    for frame, count in own.most_common(10):
        print(f"{100 * count / total:5.1f}%  {frame.replace(str(ROOT) + '/', '')}")


@pytest.mark.django_db(transaction=True)
def test_bench_cost_per_record(connector, sandbox_org):
    sandbox_org.control("set_org", daily_api_limit=10_000_000)
    owner = UserFactory(username="alice", email="alice@acme.example")
    probe = Probe()
    costs = []
    try:
        # A worker that has pushed before has the describes cached: warm it up.
        make_prospects(1, owners=[owner], sync=True)
        probe.run({"do": "push", "connector": connector.pk})

        ids = make_prospects(N, owners=[owner], sync=True)
        costs.append(
            measure(
                "initial push", N, probe, sandbox_org.pid, {"do": "push", "connector": connector.pk}
            )
        )
        synced = Prospect.objects.filter(pk__in=ids, sync_status=SyncStatus.SYNCED).count()
        assert synced == N, f"initial push: only {synced} of {N} synced"

        edit_each(ids)
        costs.append(
            measure(
                "update push", N, probe, sandbox_org.pid, {"do": "push", "connector": connector.pk}
            )
        )
        assert not SyncQueueItem.objects.filter(prospect_id__in=ids).exists()

        edit_in_salesforce(sandbox_org, connector, ids)
        costs.append(
            measure("pull", N, probe, sandbox_org.pid, {"do": "pull", "connector": connector.pk})
        )
        assert costs[-1].result["updated"] >= N
        opted_out = Prospect.objects.filter(pk__in=ids, opted_out=True).count()
        assert opted_out == N, f"pull: only {opted_out} of {N} prospects took the change"
        assert not SyncQueueItem.objects.filter(prospect_id__in=ids).exists()
    finally:
        probe.close()
    database = connection.vendor + ("" if connection.vendor == "postgresql" else " (in-process)")
    print()
    print(f"portal DB: {database}; sandbox CPU is the org's web server, bulk worker and database")
    print(
        f"{'measure':>13} {'records':>8} {'wall s':>7} {'worker s':>9} {'portal DB s':>11} "
        f"{'portal s/1k':>11} {'target':>7} {'sandbox s':>9} {'HOT updates':>15}  result"
    )
    for cost in costs:
        target = TARGET_PULL if cost.name == "pull" else TARGET_PUSH
        mark = "met" if cost.per_1k() <= target else "MISSED"
        print(
            f"{cost.name:>13} {cost.records:>8,} {cost.wall:>7.1f} {cost.worker:>9.2f} "
            f"{cost.portal_db:>11.2f} {cost.per_1k():>11.3f} {'<= ' + str(target):>7} "
            f"{cost.sandbox:>9.2f} {f'{cost.hot:,}/{cost.updated:,}':>15}  {mark} "
            f"{ {k: v for k, v in cost.result.items() if k != 'sql'} }"
        )
    for cost in costs:  # BENCH_COST_SQL=1: the portal DB's CPU by statement (cost_probe.py)
        if cost.result.get("sql"):
            print(f"\n--- {cost.name}: portal DB CPU by statement ---")
            for cpu, sql in cost.result["sql"]:
                print(f"{cpu:6.2f} s  {sql}")
    if PROFILE_DIR:
        print("(sampled by py-spy: the worker's figures include its small overhead)")
        for cost in costs:
            top10(cost.name)
