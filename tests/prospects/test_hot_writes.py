"""A sync's writes to a prospect touch no index (prospects 0015).

Every push and pull rewrites its prospects' bookkeeping: the outcome (``sync_status``,
``last_synced_at``), the CRM snapshot and owner, and a pull's ``updated_at``. When none of
those columns is indexed and the page has room, PostgreSQL updates the row in place (HOT) and
writes none of the table's indexes — about half the database's cost of a sync. An index on
one of them, added for a filter some day, would silently double it: these tests say so first.
"""

import re

import pytest
from django.db import connection

from prospects.factories import ProspectFactory
from prospects.models import Prospect, SyncStatus
from sync import bulk_sql
from sync.engine.outbound import OUTCOME_FIELDS

pytestmark = pytest.mark.django_db

# What a push of an edit or a pull writes on a linked prospect, besides the fields it takes.
SYNC_WRITES = {*OUTCOME_FIELDS, "crm_owner_id", "crm_modified_at", "updated_at"}


def indexed_columns() -> set[str]:
    """Every column any index of the prospect table reads, in its key, expression or
    condition: the columns named in the indexes' definitions, as the database holds them."""
    table = Prospect._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        else:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                "AND sql IS NOT NULL",
                [table],
            )
        definitions = " ".join(row[0] for row in cursor.fetchall())
    named = set(re.findall(r"\w+", definitions.replace('"', " ")))
    return {field.column for field in Prospect._meta.concrete_fields} & named | {
        # SQLite keeps no definition for the indexes a UNIQUE or PRIMARY KEY makes.
        "id",
        "sync_key",
    }


def test_no_index_reads_a_column_a_sync_rewrites():
    columns = {Prospect._meta.get_field(name).column for name in SYNC_WRITES}
    assert {"email", "crm_lead_id", "archived_at"} <= indexed_columns()  # it reads them all
    assert not columns & indexed_columns()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="HOT updates are PostgreSQL's")
def test_a_push_outcome_is_written_in_place():
    prospects = ProspectFactory.create_batch(5, sync_status=SyncStatus.PENDING)
    for prospect in prospects:
        prospect.sync_status = SyncStatus.SYNCED
        prospect.crm_modified_at = prospect.created_at
        prospect.crm_owner_id = "005000000000001AAA"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_hot_updated(%s::regclass)", [Prospect._meta.db_table]
        )
        (before,) = cursor.fetchone()
        bulk_sql.update(Prospect, prospects, [*SYNC_WRITES - {"updated_at"}])
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_hot_updated(%s::regclass)", [Prospect._meta.db_table]
        )
        (after,) = cursor.fetchone()
    assert after - before == 5
