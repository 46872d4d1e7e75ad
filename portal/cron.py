"""RQ cron configuration, loaded by ``python manage.py rqcron portal.cron`` (the Procfile's cron).

Each ``register`` enqueues a job on an RQ queue at its interval; workers run it.
"""

from rq import cron

from automation.jobs import tick as automation_tick
from core.jobs import record_heartbeat
from intake.received import process_received_job
from operations.alerts import evaluate as evaluate_alerts
from operations.alerts import send_digest
from operations.metrics import roll_up
from prospects.jobs import decay_job
from reports.jobs import refresh_roi_job
from sync.jobs import tick
from sync.verification import verify_all

cron.register(record_heartbeat, queue_name="default", kwargs={"name": "cron"}, interval=60)

# The sync tick runs every 10 s (the shortest connector interval) and itself waits for each
# connector's own interval before pushing and pulling.
cron.register(tick, queue_name="sync", interval=10)

# Verification: the connector user's access to objects and mapped fields, every 15 minutes.
cron.register(verify_all, queue_name="sync", interval=900)

# Score decay (off unless a Sync admin turns it on in Scoring): once a day.
cron.register(decay_job, queue_name="default", interval=86400)

# Form handler submissions a lost wake-up left waiting (intake/received.py), every minute.
cron.register(process_received_job, queue_name="default", interval=60)

# Automation: dynamic lists recomputed, then repeat rules run on the prospects changed since
# their last run (automation/rules.py), every minute.
cron.register(automation_tick, queue_name="default", interval=60)

# Operations: alerts to the Sync admins and the dashboard's per-minute figures, every minute;
# a heartbeat per worker queue, so the alerts tell a silent worker from a silent cron.
cron.register(evaluate_alerts, queue_name="default", interval=60)
cron.register(roll_up, queue_name="default", interval=60)
cron.register(send_digest, queue_name="default", cron="0 7 * * *")  # on when ALERT_DAILY_DIGEST
cron.register(record_heartbeat, queue_name="sync", kwargs={"name": "worker:sync"}, interval=60)
cron.register(
    record_heartbeat, queue_name="imports", kwargs={"name": "worker:imports"}, interval=60
)

# The ROI report's pre-aggregated figures (reports/roi.py), for prospects' campaign changes and
# new prospects; the opportunities pull also enqueues it when it stored something.
cron.register(refresh_roi_job, queue_name="default", interval=300)
