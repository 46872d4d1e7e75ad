"""Cheaper sync writes (issue 19, the cost per record).

- SyncHistory.prospect and Activity.prospect without a database constraint: every push and
  pull writes a history row per record (and a create an activity), and PostgreSQL checked each
  at commit — an index probe and a KEY SHARE lock on the prospect row the transaction had just
  updated, a lock record written per row: more than writing the row. Deleting a prospect still
  deletes both through Django's CASCADE, which never needed the constraint; the engine writes
  them only for prospects it holds locked (or has just created) in the same transaction.
- The queue table leaves half of each page free (fillfactor 50): a claim and its renewals
  move only ``claimed_at``/``claimed_by``, unindexed, so with room on the page they are HOT
  updates that write none of the table's three indexes. Its rows live minutes; the space is
  nothing.
"""

import django.db.models.deletion
from django.db import migrations, models

QUEUE = "sync_syncqueueitem"


def queue_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {QUEUE} SET (fillfactor = 50)")


def queue_fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {QUEUE} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("prospects", "0013_partial_link_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="activity",
            name="prospect",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="activities",
                to="prospects.prospect",
            ),
        ),
        migrations.AlterField(
            model_name="synchistory",
            name="prospect",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="sync_history",
                to="prospects.prospect",
            ),
        ),
        migrations.RunPython(queue_fillfactor, queue_fillfactor_reset),
    ]
