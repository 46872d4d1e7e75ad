"""The RQ worker class the Procfile runs: ``--worker-class core.worker.Worker``.

RQ's ``SimpleWorker`` runs every job in its own long-lived process, so a database connection
that died under it — PostgreSQL restarted, a failover, an idle connection cut by a proxy,
``pg_terminate_backend`` — stays dead: each later job fails at once with "the connection is
closed", and such a worker takes (and fails) jobs faster than a healthy one (``make reliability``
found it). Django guards each web request with ``close_old_connections``; this worker does the
same around each job, so a dead connection is dropped and the next query reconnects.

It also takes its queues in turn (RQ's round robin) rather than always the first listed: a
worker on ``default sync`` kept by a stream of form-handler jobs on ``default`` would otherwise
leave the syncs those submissions asked for waiting until the stream paused.
"""

from django.db import close_old_connections
from rq.worker import DequeueStrategy, SimpleWorker


class Worker(SimpleWorker):
    def work(self, *args, dequeue_strategy=DequeueStrategy.ROUND_ROBIN, **kwargs) -> bool:
        return super().work(*args, dequeue_strategy=dequeue_strategy, **kwargs)

    def perform_job(self, *args, **kwargs) -> bool:
        close_old_connections()
        try:
            return super().perform_job(*args, **kwargs)
        finally:
            close_old_connections()
