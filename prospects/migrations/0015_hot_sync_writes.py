"""Sync writes that touch no prospect index (issue 19, the cost per record).

Every push and pull rewrites its prospects' bookkeeping columns: ``sync_status``,
``last_synced_at``, the CRM snapshot (and a pull the fields it takes). PostgreSQL can update a
row in place on its page — a HOT update, which writes none of the table's indexes — only when
no indexed column changes and the page has room for the new version. Neither held: the push
moves ``sync_status`` (pending -> synced), which was indexed, and a freshly loaded table has
full pages. So each pushed or pulled record wrote an entry into each of the table's 12 or more
indexes: about half the database's cost of a sync.

- ``sync_status`` loses its index. What read it: the prospect list's sort by the Sync column
  (now a sort of the matching rows, as the sort by assigned user always was) and the list and
  rule criterion "sync status is …", which combines with other criteria and is evaluated in
  bulk. What is pending is the sync queue's to say, what failed the Sync Errors table's; both
  are indexed there.
- The prospect table leaves room on each page (fillfactor 70) for the next versions of its rows.
  Only rows written from now on are spread out; ``VACUUM FULL prospects_prospect`` (or
  ``pg_repack``) spreads existing ones.
"""

from django.db import migrations, models

PROSPECTS = "prospects_prospect"
FILLFACTOR = 70


def spread(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {PROSPECTS} SET (fillfactor = {FILLFACTOR})")


def pack(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {PROSPECTS} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("prospects", "0014_logs_without_constraints"),
    ]

    operations = [
        migrations.AlterField(
            model_name="prospect",
            name="sync_status",
            field=models.CharField(
                choices=[
                    ("not_synced", "Not synced"),
                    ("pending", "Pending"),
                    ("synced", "Synced"),
                    ("waiting_assignment", "Not synced: waiting for assignment"),
                    ("error", "Sync error"),
                    ("do_not_sync", "Do not sync"),
                ],
                default="not_synced",
                max_length=20,
            ),
        ),
        migrations.RunPython(spread, pack),
    ]
