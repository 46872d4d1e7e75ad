"""The action set at scale (issue 17): a rule's actions over half of 100,000 prospects.

Run: `DATABASE_URL=postgres://… SANDBOX_DATABASE_URL=postgres://… make bench
BENCH=tests/bench/test_actions_bench.py`.

100,000 prospects, 50,000 of them with a score ≥ 50. Each round matches them (the criteria as
a queryset) and applies "assign to a queue + set a field + add to a Salesforce campaign" with
new values (another queue, value and campaign), so every round changes all 50,000: the
statements, the history rows, the memberships and the sync requests are all written; the
syncs are queued, not waited for. Target: ≤ 5 s. Median of 3 rounds. BENCH_ACTIONS_N sets the
prospect count (default 100,000; half match).
"""

import os
import statistics
import uuid

import pytest
from django.db import connection

from automation.actions import Source, apply_actions, parse_actions
from crm.models import CampaignMembership
from prospects.models import CrmQueue, Prospect, SyncHistory, SyncQueueItem
from tests.bench.test_automation_bench import _measured
from tests.conftest import user_with_role
from tests.crm.factories import SalesforceCampaignFactory

N = int(os.environ.get("BENCH_ACTIONS_N", "100000"))
ROUNDS = 3


def make_prospects(n: int) -> None:
    tag = uuid.uuid4().hex[:8]
    for start in range(0, n, 10000):
        Prospect.objects.bulk_create(
            [
                Prospect(
                    email=f"bench{tag}-{i}@actions.example",
                    last_name=f"Bench {i}",
                    country="France",
                    score=60 if i % 2 else 10,
                )
                for i in range(start, min(n, start + 10000))
            ],
            batch_size=10000,
        )


@pytest.mark.django_db(transaction=True)
def test_bench_rule_actions_over_half_of_100k():
    make_prospects(N)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    marketer = user_with_role("bench-marketer", "Marketer")
    figures = []
    for round_ in range(ROUNDS):
        queue = CrmQueue.objects.create(sf_id=f"00G{round_:012d}AAA", name=f"Queue {round_}")
        campaign = SalesforceCampaignFactory()
        actions = parse_actions(
            [
                {"type": "assign_queue", "queue": queue.pk},
                {"type": "set_field", "field": "country", "value": f"Germany {round_}"},
                {"type": "add_to_sf_campaign", "campaign": campaign.pk, "status": "Sent"},
            ]
        )
        result, elapsed, cpu, db = _measured(
            lambda actions=actions: apply_actions(
                actions,
                Prospect.objects.filter(score__gte=50),
                actor=marketer,
                source=Source.RULE,
                label="Rule “bench”",
            )
        )
        figures.append(elapsed)
        assert result.matched == N // 2 and result.changed == N // 2 and not result.failed
        assert CampaignMembership.objects.filter(campaign=campaign).count() == N // 2
        print(
            f"\n  round {round_ + 1}: {elapsed:.2f} s wall, {cpu:.2f} s Python CPU, "
            f"{db:.2f} s database CPU"
        )
    assert Prospect.objects.filter(assigned_queue__name="Queue 2").count() == N // 2
    assert SyncQueueItem.objects.count() == N // 2
    assert (
        SyncHistory.objects.count() >= ROUNDS * 2 * N // 2
    )  # one row of fields, one of the campaign
    print(
        f"\nactions (assign queue + set field + add to SF campaign) on {N // 2:,} of {N:,} "
        f"prospects, matched and applied: median {statistics.median(figures):.2f} s "
        f"(rounds {', '.join(f'{f:.2f}' for f in figures)}) on {connection.vendor}"
        f"   target: <= 5 s"
    )
