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
