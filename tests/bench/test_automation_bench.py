"""Automation (issue 17): a rule over 100,000 prospects matching 50,000, matched and applied
≤ 5 s (the syncs queued, not waited for); a dynamic list over 1,000,000 prospects recomputed
≤ 10 s, and its members page ≤ 200 ms.

Run: `make bench BENCH=tests/bench/test_automation_bench.py` with `DATABASE_URL=postgres://…`.
BENCH_RULE_PROSPECTS (default 100,000) and BENCH (default 1,000,000: the list's prospects) set
the sizes. Each figure is the median of three runs, printed beside its target.
"""

import cProfile
import os
import pstats
import statistics
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

import automation.actions
from automation.lists import recompute
from automation.models import ProspectList, Rule
from automation.rules import run_rule
from portal.fake_prospects import make_prospects
from prospects.models import CrmQueue, Prospect, SyncQueueItem
from tests.bench.cpu import process_cpu
from tests.conftest import user_with_role

RULE_N = int(os.environ.get("BENCH_RULE_PROSPECTS", "100000"))
LIST_N = int(os.environ.get("BENCH", "1000000"))
GERMANS_50 = {
    "match": "all",
    "conditions": [
        {"field": "score", "op": "gte", "value": 50},
        {"field": "country", "op": "eq", "value": "Germany"},
    ],
}


def _prepare(n: int) -> None:
    """``n`` prospects; half in Germany (even ids), scores 0–99 spread evenly."""
    make_prospects(n, seed=17)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE prospects_prospect SET score = id % 100, "
            "country = CASE WHEN id % 2 = 0 THEN 'Germany' ELSE 'France' END"
        )
        cursor.execute("ANALYZE prospects_prospect")


def _backend_cpu() -> float:
    """This connection's PostgreSQL backend CPU seconds (0 elsewhere)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return process_cpu(cursor.fetchone()[0])


def _measured(call):
    """``call()``'s result, wall seconds, Python CPU seconds and database backend CPU seconds;
    with BENCH_PROFILE set, the Python profile's top entries are printed too."""
    profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    cpu, db, started = time.process_time(), _backend_cpu(), time.perf_counter()
    if profile is not None:
        profile.enable()
    result = call()
    if profile is not None:
        profile.disable()
    wall = time.perf_counter() - started
    cpu, db = time.process_time() - cpu, _backend_cpu() - db
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    return result, wall, cpu, db


@pytest.fixture
def chunk_backends_cpu(monkeypatch) -> list[float]:
    """CPU seconds of the backend of each chunk applied on a worker thread's own connection (a
    large run is applied on two: ``automation.actions``), read as the chunk ends; the main
    connection's figure (``_measured``) has the rest."""
    spent: list[float] = []
    apply = automation.actions._apply_in_transaction

    def measured(*args):
        try:
            return apply(*args)
        finally:
            if threading.current_thread() is not threading.main_thread():
                spent.append(_backend_cpu())

    monkeypatch.setattr(automation.actions, "_apply_in_transaction", measured)
    return spent


def _report(label: str, figures: list[float], target: float, unit: str = "s") -> float:
    median = statistics.median(figures)
    shown = " ".join(f"{f:.3f}" for f in figures)
    print(f"  {label:<48} median {median:7.3f} {unit}   target ≤ {target:g} {unit}   ({shown})")
    return median


@pytest.mark.django_db(transaction=True)
def test_bench_rule_over_100k_matching_50k(chunk_backends_cpu):
    _prepare(RULE_N)
    queues = [
        CrmQueue.objects.create(sf_id=f"00G00000000000{i}AAA", name=f"Queue {i}") for i in range(3)
    ]
    criteria = {
        "match": "all",
        "conditions": [{"field": "country", "op": "eq", "value": "Germany"}],
    }
    print(f"\nrule over {RULE_N:,} prospects matching {RULE_N // 2:,} on {connection.vendor}")
    figures = []
    for attempt, queue in enumerate(queues):
        SyncQueueItem.objects.all().delete()
        rule = Rule.objects.create(
            name=f"Bench {attempt}",
            criteria=criteria,
            state=Rule.State.ACTIVE,
            actions=[{"type": "assign_queue", "queue": queue.pk}],
        )
        chunk_backends_cpu.clear()
        run, wall, cpu, db = _measured(lambda rule=rule: run_rule(rule))
        figures.append(wall)
        print(
            f"  run {attempt + 1}: {wall:.2f} s wall, {cpu:.2f} s Python CPU, "
            f"{db + sum(chunk_backends_cpu):.2f} s database CPU "
            f"({sum(chunk_backends_cpu):.2f} s of it on the chunks' own connections)"
        )
        assert run.matched == RULE_N // 2 and run.changed == RULE_N // 2, run.message
        assert SyncQueueItem.objects.count() == RULE_N // 2
    median = _report("match + assign to a queue + queue syncs", figures, 5.0)
    assert median <= 5.0


@pytest.mark.django_db(transaction=True)
def test_bench_dynamic_list_over_1m_and_its_page():
    _prepare(LIST_N)
    print(
        f"\ndynamic list “score ≥ 50 and country = Germany” over {LIST_N:,} prospects on {connection.vendor}"
    )
    first, steady = [], []
    for attempt in range(3):
        dynamic = ProspectList.objects.create(
            name=f"Hot Germans {attempt}", kind="dynamic", criteria=GERMANS_50
        )
        result, wall, cpu, db = _measured(lambda dynamic=dynamic: recompute(dynamic))
        first.append(wall)
        print(f"  first recompute {attempt + 1}: {wall:.2f} s wall, {db:.2f} s database CPU")
        expected = Prospect.objects.filter(score__gte=50, country="Germany").count()
        assert result.member_count == expected
    # The steady state: 1% of the prospects changed since.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE prospects_prospect SET score = 100 - score WHERE id % 100 = 0")
    for attempt in range(3):
        result, wall, cpu, db = _measured(lambda: recompute(dynamic))
        steady.append(wall)
        print(f"  steady recompute {attempt + 1}: {wall:.2f} s wall, {db:.2f} s database CPU")
    _report(f"first recompute ({result.member_count:,} members)", first, 10.0)
    _report("recompute after 1% changed", steady, 10.0)
    marketer = user_with_role("bench-marketer", "Marketer")
    client = Client()
    client.force_login(marketer)
    url = reverse("automation:list_detail", args=[dynamic.pk])
    pages = {}
    for label, query in (
        ("members page, first", ""),
        ("members page 1,000 (50,000 deep)", "?page=1000"),
    ):
        client.get(url + query)  # warm
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            response = client.get(url + query)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        pages[label] = _report(label, timings, 200, "ms")
    assert statistics.median(first) <= 10.0 and statistics.median(steady) <= 10.0
    assert max(pages.values()) <= 200
