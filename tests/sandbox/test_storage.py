"""Storage: queries on indexed fields are answered by an index, never a table scan."""

import io

import pytest
from django.core.management import call_command
from django.db import connections

from sandbox import query, soql
from sandbox.demo import CONNECTOR_USERNAME, load_demo_org
from sandbox.models import FaultConfig, OrgUser
from sandbox.schema import actor_for

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


@pytest.fixture
def actor():
    load_demo_org()
    return actor_for(OrgUser.objects.select_related("org").get(username=CONNECTOR_USERNAME))


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connections["sandbox"].cursor() as cursor:
        if connections["sandbox"].vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " ".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return " ".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    "where",
    [
        "Email = 'ada@example.com'",
        "Id = '00Q5g00000ZZZZZEA5'",
        "pi__Pardot_Prospect_Id__c IN ('l-1', 'l-2')",
        "SystemModstamp > 2024-01-01T00:00:00Z",
    ],
)
def test_indexed_filters_are_answered_in_sql_through_an_index(actor, where):
    prepared = query.prepare(
        actor, soql.parse(f"SELECT Id FROM Lead WHERE {where}"), all_rows=False
    )
    assert prepared.predicate is None
    plan = _plan(prepared.queryset)
    assert "INDEX" in plan.upper()
    assert "SCAN sandbox_record" not in plan and "Seq Scan" not in plan


def test_sandboxctl_scripts_faults(actor):
    out = io.StringIO()
    call_command("sandboxctl", "set_faults", "latency_ms=25", "error_rate=0.1", stdout=out)
    assert '"ok": true' in out.getvalue()
    config = FaultConfig.objects.get(org=actor.org)
    assert (config.latency_ms, config.error_rate) == (25, 0.1)
    call_command("sandboxctl", "clear_faults", stdout=out)
    assert not FaultConfig.objects.filter(org=actor.org).exists()
