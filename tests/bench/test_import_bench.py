"""Import benchmark (issue 13): 100,000 rows of a 20-column CSV to "done" in ≤ 60 s, with the
importing process's peak RSS ≤ 300 MB and flat between 10,000 and 100,000 rows.

The import runs as in production: the upload is received and mapped by ``intake.imports``, and a
real ``rqworker imports`` process (the Procfile's SimpleWorker) runs it; its RSS is sampled every
50 ms. A tenth of the rows update prospects that exist (matched by email), the rest create.

    DATABASE_URL=postgres://… make bench BENCH=tests/bench/test_import_bench.py
    BENCH_IMPORT_ROWS=10000,100000 (the default) sets the sizes.
"""

import csv
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import django_rq
import psutil
import pytest
from django.core.files.uploadedfile import UploadedFile

from intake.imports import ImportOptions, receive_upload, submit_import
from intake.mapping import guess_mapping
from intake.models import Import
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect
from tests.fixtures.database import database_url

ROOT = Path(__file__).resolve().parents[2]
SIZES = [int(n) for n in os.environ.get("BENCH_IMPORT_ROWS", "10000,100000").split(",")]
TARGET_SECONDS = 60
TARGET_RSS_MB = 300
FLAT_MB = 50  # peak RSS at the largest size may exceed the smallest's by at most this
HEADER = [
    "Email", "First Name", "Last Name", "Company", "Website", "Job Title", "Department",
    "Industry", "Phone", "Fax", "Address One", "Address Two", "City", "State", "Zip",
    "Country", "Territory", "Source", "Annual Revenue", "Comments",
]  # fmt: skip
UPDATED_SHARE = 10  # one row in ten updates an existing prospect


def write_file(path: Path, rows: int, domain: str) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            writer.writerow(
                [
                    f"p{i}@{domain}", f"First{i}", f"Last{i}", f"Company {i % 997}",
                    f"https://c{i % 997}.example", "Engineer", "R&D", "Software",
                    f"+1 555 {i:07d}", "", f"{i} Main Street", "Suite 5", "Boston", "MA",
                    "02110", "USA", "East", "Trade show", f"{(i % 50) * 10000}",
                    "Met at the booth; asked about pricing.",
                ]
            )  # fmt: skip


class Worker:
    """A real `rqworker imports` process (as the Procfile runs it), its peak RSS sampled."""

    def __init__(self) -> None:
        env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "true"}
        args = [
            sys.executable, "manage.py", "rqworker", "imports",
            "--worker-class", "rq.worker.SimpleWorker",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.peak_rss = 0
        self.cpu = 0.0  # user + system seconds: what the import cost, whatever the machine's load
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                tree = psutil.Process(self.process.pid)
                rss = sum(p.memory_info().rss for p in [tree, *tree.children(recursive=True)])
                self.peak_rss = max(self.peak_rss, rss)
                self.cpu = sum(
                    sum(p.cpu_times()[:2]) for p in [tree, *tree.children(recursive=True)]
                )
            except psutil.Error:
                pass
            time.sleep(0.05)

    def wait_ready(self, timeout: float = 120) -> None:
        """Until the worker has registered with Redis (Django and RQ loaded)."""
        queue = django_rq.get_queue("imports")
        deadline = time.monotonic() + timeout
        while not _registered(queue) and time.monotonic() < deadline:
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        self._stop.set()


def _registered(queue) -> list:
    from rq import Worker as RqWorker

    return RqWorker.all(queue=queue)


def run_import(rows: int, user, tmp_path: Path) -> tuple[float, float, float, Import]:
    """Upload and map (as the page does), then time the running worker from the click on
    "Import" until the import is done."""
    domain = f"bench-{uuid.uuid4().hex[:8]}.example"
    existing = [
        ProspectFactory.build(email=f"p{i}@{domain}", company="Old")
        for i in range(0, rows, UPDATED_SHARE)
    ]
    Prospect.objects.bulk_create(existing, batch_size=5000)
    path = tmp_path / f"bench-{rows}.csv"
    write_file(path, rows, domain)
    django_rq.get_queue("imports").empty()
    with path.open("rb") as file:
        upload = UploadedFile(file, name=path.name, size=path.stat().st_size)
        run = receive_upload(user=user, uploaded_file=upload)
    worker = Worker()
    try:
        worker.wait_ready()
        started = time.perf_counter()
        submit_import(run, mapping=guess_mapping(run.headers), options=ImportOptions())
        while not Import.objects.get(pk=run.pk).finished:
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
    finally:
        worker.stop()
    run.refresh_from_db()
    django_rq.get_queue("sync").empty()  # the wake-ups the import sent; no sync worker here
    return elapsed, worker.cpu, worker.peak_rss / 2**20, run


@pytest.mark.django_db(transaction=True)
def test_bench_import(tmp_path):
    user = UserFactory(username="importer")
    results = []
    for rows in SIZES:
        elapsed, cpu, peak_mb, run = run_import(rows, user, tmp_path)
        assert run.state == Import.State.DONE, run.message
        assert (run.created, run.updated, run.failed) == (
            rows - rows // UPDATED_SHARE,
            rows // UPDATED_SHARE,
            0,
        )
        results.append((rows, elapsed, peak_mb, cpu))
    print(f"\nImport (CSV, {len(HEADER)} columns, 1 in {UPDATED_SHARE} rows an update)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'rows':>9} {'to done':>9} {'rows/s':>9} {'worker CPU':>11} {'peak RSS':>9}   targets")
    for rows, elapsed, peak_mb, cpu in results:
        print(
            f"{rows:9,d} {elapsed:8.1f}s {rows / elapsed:9,.0f} {cpu:10.1f}s {peak_mb:7.0f}MB   "
            f"100k ≤ {TARGET_SECONDS} s; RSS ≤ {TARGET_RSS_MB} MB, flat (≤ +{FLAT_MB} MB)"
        )
    smallest, largest = results[0], results[-1]
    print(f"RSS growth {smallest[0]:,} → {largest[0]:,} rows: {largest[2] - smallest[2]:+.0f} MB")
    assert all(peak <= TARGET_RSS_MB for _, _, peak, _ in results)
    assert largest[2] - smallest[2] <= FLAT_MB
    for rows, elapsed, _, _ in results:
        if rows >= 100_000:
            assert elapsed <= TARGET_SECONDS * rows / 100_000
