"""The Procfile's worker class survives a database connection killed under it (PostgreSQL)."""

import django_rq
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rq import Queue
from rq.job import JobStatus
from rq.worker import SimpleWorker

from core.worker import Worker

pytestmark = pytest.mark.django_db(transaction=True)


def kill_own_connection() -> None:
    """What a database restart, a failover or pg_terminate_backend does to a worker."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


def count_users() -> int:
    return get_user_model().objects.count()


@pytest.mark.parametrize(("worker_class", "recovers"), [(Worker, True), (SimpleWorker, False)])
def test_the_next_job_reconnects_after_the_connection_was_killed(worker_class, recovers):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (pg_terminate_backend); CI runs the suite on it")
    queue = Queue("worker-test", connection=django_rq.get_connection("default"))
    queue.enqueue(kill_own_connection)
    after = queue.enqueue(count_users)

    worker_class([queue], connection=queue.connection).work(burst=True)

    assert (after.get_status() == JobStatus.FINISHED) is recovers
    connection.close()  # the plain worker left it dead; the rest of the suite needs it


def note(name: str) -> str:
    return name


def test_the_worker_takes_its_queues_in_turn():
    """A stream of jobs on the first queue (form handler posts on ``default``) does not hold
    back the second (``sync``): the Procfile's worker alternates, RQ's default would not."""
    redis = django_rq.get_connection("default")
    first, second = Queue("turn-first", connection=redis), Queue("turn-second", connection=redis)
    for queue in (first, second):
        queue.empty()
    jobs = [first.enqueue(note, "a1"), first.enqueue(note, "a2"), second.enqueue(note, "b1")]

    Worker([first, second], connection=redis).work(burst=True)

    ended = sorted(jobs, key=lambda job: job.refresh() or job.ended_at)
    assert [job.return_value() for job in ended] == ["a1", "b1", "a2"]
