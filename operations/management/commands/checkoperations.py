"""``manage.py checkoperations [--every 60]``: evaluate the alerts (the Procfile's watchdog).

The RQ cron also evaluates them each minute, but a job needs the cron, Redis and a worker —
the very things whose silence an alert must report. This command needs only the database and
the mail server, so it runs as a process of its own (``--every``) or from the system's cron.
"""

import time

from django.core.management.base import BaseCommand

from operations.alerts import evaluate


class Command(BaseCommand):
    help = "Open and resolve operations incidents and mail the Sync admins about them."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--every", type=int, default=0, help="Repeat every N seconds (0: once, then exit)."
        )

    def handle(self, *args, every: int = 0, **options) -> None:
        while True:
            result = evaluate()
            if result.opened or result.resolved or not every:
                self.stdout.write(
                    f"{len(result.opened)} incidents opened, {len(result.resolved)} resolved"
                )
                self.stdout.flush()  # under honcho stdout is a pipe: show it now
            if not every:
                return
            time.sleep(every)
