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
    sql_cost = SqlCost(connection) if os.environ.get("BENCH_COST_SQL") else None
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
        if sql_cost:
            result["sql"] = sql_cost.top()
        answer(result)


class SqlCost:
    """``BENCH_COST_SQL=1``: the database backend's CPU around each statement the worker sends,
    summed by statement shape: those through Django, each ``COPY`` (by its table) and each
    commit (deferred foreign-key checks run there). Ticks are 10 ms, so a figure is a sample
    sum; what no statement holds (the backend's own work between them) is the last line."""

    def __init__(self, connection) -> None:
        from collections import Counter

        import psycopg

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.stat = f"/proc/{cursor.fetchone()[0]}/stat"
        self.spent: Counter = Counter()
        self.started = self.cpu()
        connection.execute_wrappers.append(self)
        self._wrap_copy(psycopg.Cursor)
        self._wrap_commit(psycopg.Connection)

    def _wrap_copy(self, cursor_class) -> None:
        import contextlib

        copy, cost = cursor_class.copy, self

        @contextlib.contextmanager
        def measured(cursor, statement, *args, **kwargs):
            before = cost.cpu()
            try:
                with copy(cursor, statement, *args, **kwargs) as stream:
                    yield stream
            finally:
                cost.spent[" ".join(str(statement).split()[:2])] += cost.cpu() - before

        cursor_class.copy = measured

    def _wrap_commit(self, connection_class) -> None:
        commit, cost = connection_class.commit, self

        def measured(connection):
            before = cost.cpu()
            try:
                return commit(connection)
            finally:
                cost.spent["COMMIT (deferred foreign-key checks)"] += cost.cpu() - before

        connection_class.commit = measured

    def cpu(self) -> float:
        with open(self.stat) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __call__(self, execute, sql, params, many, context):
        before = self.cpu()
        try:
            return execute(sql, params, many, context)
        finally:
            self.spent[" ".join(sql.split())[:110]] += self.cpu() - before

    def top(self) -> list:
        spent, self.spent = self.spent, type(self.spent)()
        now, started, self.started = self.cpu(), self.started, self.cpu()
        rows = [(round(cpu, 2), sql) for sql, cpu in spent.most_common(14)]
        return [*rows, (round(now - started - sum(spent.values()), 2), "(between statements)")]


def answer(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
