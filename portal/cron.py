"""RQ cron configuration, loaded by ``python manage.py rqcron portal.cron`` (the Procfile's cron).

Each ``register`` enqueues a job on an RQ queue at its interval; workers run it.
"""

from rq import cron

from portal.jobs import record_heartbeat

cron.register(record_heartbeat, queue_name="default", kwargs={"name": "cron"}, interval=60)
