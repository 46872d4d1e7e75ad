"""The RQ plumbing works against a real Redis: a job enqueued on a queue is run by a worker."""

import django_rq
import pytest
from rq import SimpleWorker

from core.jobs import record_heartbeat
from core.models import Heartbeat


@pytest.mark.django_db(transaction=True)
def test_heartbeat_job_runs_on_a_real_worker():
    queue = django_rq.get_queue("default")
    queue.empty()
    queue.enqueue(record_heartbeat, name="test")
    queue.enqueue(record_heartbeat, name="test")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    beat = Heartbeat.objects.get(name="test")
    assert beat.count == 2


def test_cron_config_registers_the_heartbeat():
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=django_rq.get_connection("default"))
    scheduler.load_config_from_file("portal.cron")
    jobs = {job.func_name: job for job in scheduler.get_jobs()}
    assert jobs["core.jobs.record_heartbeat"].interval == 60
    assert jobs["sync.jobs.tick"].interval == 10
    assert jobs["sync.jobs.tick"].queue_name == "sync"


def test_queues_are_configured():
    for name in ("default", "sync", "imports"):
        assert django_rq.get_queue(name).connection.ping()
