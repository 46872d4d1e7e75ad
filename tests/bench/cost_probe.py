"""A portal worker process for the cost benchmark (``tests/bench/test_cost_bench.py``).

``python -m tests.bench.cost_probe`` sets Django up once (a long-running worker pays that once,
not per push), connects to the database, prints ``{"ready": pid}`` and then runs one command per
line of stdin — ``{"do": "push", "connector": 1}`` or ``{"do": "pull", "connector": 1}`` —
answering each with a JSON line when it is done. The benchmark
reads this process's CPU and its database backends' from ``/proc`` around each command, so the
figures are per-process accounting from outside, as ``top`` would see them.

Settings are production's where it matters for cost: ``DEBUG`` off (no query log).
"""

import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # a production worker keeps no query log
    from django.db import connection

    from sync.engine.inbound import pull_changes
    from sync.jobs import push_pending
    from sync.models import Connector

    connection.ensure_connection()
    answer({"ready": os.getpid()})
    for line in sys.stdin:
        command = json.loads(line)
        if command["do"] == "quit":
            break
        if command["do"] == "push":
            report = push_pending(command["connector"])
            result = {"synced": report.synced, "failed": report.failed, "calls": report.api_calls}
        else:
            connector = Connector.objects.get(pk=command["connector"])
            report = pull_changes(connector=connector)
            result = {"seen": report.seen, "updated": report.updated, "calls": report.api_calls}
        answer(result)


def answer(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
