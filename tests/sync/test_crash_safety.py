"""A real RQ worker SIGKILLed mid-batch and a flushed Redis lose nothing and duplicate nothing."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import django_rq
import psutil
import pytest

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect, SyncHistory, SyncQueueItem, SyncReason, SyncStatus
from prospects.sync_requests import request_sync_many
from sync.jobs import push_pending
from tests.fixtures.database import database_url, drop_dead_connections

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 1800  # two batches (1,000 then 800), each written in one Composite call


def start_worker(log: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "true"}
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "sync", "--burst"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_batch_and_flushed_redis_converge_without_duplicates(
    connector, sandbox_org, settings, tmp_path
):
    domain = f"kill-{uuid.uuid4().hex[:8]}.example"
    owner = UserFactory(username="alice", email="alice@acme.example")
    prospects = [
        ProspectFactory.build(email=f"p{i}@{domain}", assigned_user=owner) for i in range(TOTAL)
    ]
    Prospect.objects.bulk_create(prospects)
    ids = list(Prospect.objects.filter(email__endswith=domain).values_list("pk", flat=True))
    request_sync_many(ids, SyncReason.INITIAL_SYNC)
    queue = django_rq.get_queue("sync")
    queue.empty()
    queue.enqueue("sync.jobs.push_pending", connector.pk)

    log = tmp_path / "worker.log"
    # The org answers each call after 300 ms, as a distant one does: the second batch's
    # Composite call is still out when the kill lands. (Without it a fast worker could write
    # the second batch between two looks at the history, and the kill would come too late.)
    sandbox_org.control("set_faults", latency_ms=300)
    try:
        worker = start_worker(log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = SyncHistory.objects.filter(prospect_id__in=ids).count()
            if done > 0 or worker.poll() is not None:
                break
            time.sleep(0.05)
        assert worker.poll() is None, f"the worker ended on its own:\n{log.read_text()[-3000:]}"
        # SIGKILL the worker and the work horse RQ forked to run the job, as when a machine dies.
        tree = psutil.Process(worker.pid)
        for process in [*tree.children(recursive=True), tree]:
            process.send_signal(signal.SIGKILL)
        worker.wait()
    finally:
        sandbox_org.control("clear_faults")
    drop_dead_connections()
    synced_before_kill = Prospect.objects.filter(pk__in=ids, sync_status=SyncStatus.SYNCED).count()
    assert 0 < synced_before_kill < TOTAL, "the kill must land mid-run"
    assert SyncQueueItem.objects.exclude(claimed_at=None).exists()  # a claimed batch was lost

    django_rq.get_connection("sync").flushdb()  # every wake-up gone too

    # The dead worker's last request may still be running in Salesforce; the claim timeout
    # (minutes in production) outlasts it. Wait until the org is quiet before expiring claims.
    sf = sandbox_org.admin()
    count_soql = f"SELECT COUNT() FROM Lead WHERE Email LIKE '%@{domain}'"
    last, stable_since = -1, time.monotonic()
    while time.monotonic() - stable_since < 1.5:
        current = sf.query(count_soql)["totalSize"]
        if current != last:
            last, stable_since = current, time.monotonic()
        time.sleep(0.25)

    # The next cron tick: the dead worker's claim has expired; everything pending goes out.
    settings.SYNC_CLAIM_TIMEOUT = 0
    push_pending(connector.pk)

    assert not SyncQueueItem.objects.filter(prospect_id__in=ids).exists()
    unsynced = Prospect.objects.filter(pk__in=ids).exclude(sync_status=SyncStatus.SYNCED)
    assert not unsynced.exists(), [
        (p.email, p.sync_status, list(p.sync_errors.values_list("error_code", "message")))
        for p in unsynced
    ]
    leads = sf.query_all(
        f"SELECT Id, Email, pi__Pardot_Prospect_Id__c FROM Lead WHERE Email LIKE '%@{domain}'"
    )["records"]
    assert len(leads) == TOTAL  # no duplicate, none missing
    by_key = {lead["pi__Pardot_Prospect_Id__c"]: lead["Id"] for lead in leads}
    for prospect in Prospect.objects.filter(pk__in=ids):
        assert by_key[prospect.sync_key.hex] == prospect.crm_lead_id
