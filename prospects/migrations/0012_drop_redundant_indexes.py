"""Indexes that cost every prospect write and serve no query (issue 19, the cost per record).

- The FK indexes on SyncHistory.prospect, Activity.prospect and Prospect.assigned_user: each is
  the first column of a composite index (synchistory_prospect_at, activity_timeline,
  prospect_assigned_idx), which serves every lookup the single one would.
- The ``*_like`` (varchar_pattern_ops) indexes PostgreSQL gets for each indexed CharField: they
  serve only ``LIKE 'prefix%'`` (``startswith``), which no query of these columns uses —
  emails are searched with ``icontains`` and matched with ``Lower(email)``; CRM ids and the sync
  status are matched exactly. The plain indexes stay.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

LIKE_INDEXED = ("email", "crm_lead_id", "crm_contact_id", "sync_status")


def _like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return []
    table = apps.get_model("prospects", "Prospect")._meta.db_table
    return [
        (schema_editor._create_index_name(table, [column], suffix="_like"), table, column)
        for column in LIKE_INDEXED
    ]


def drop_like_indexes(apps, schema_editor):
    for name, _table, _column in _like_indexes(apps, schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def create_like_indexes(apps, schema_editor):
    for name, table, column in _like_indexes(apps, schema_editor):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} ON "
            f"{schema_editor.quote_name(table)} ({schema_editor.quote_name(column)} "
            "varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("prospects", "0011_email_prefix_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="activity",
            name="prospect",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="activities",
                to="prospects.prospect",
            ),
        ),
        migrations.AlterField(
            model_name="prospect",
            name="assigned_user",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="assigned_prospects",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="synchistory",
            name="prospect",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="sync_history",
                to="prospects.prospect",
            ),
        ),
        migrations.RunPython(drop_like_indexes, create_like_indexes, elidable=True),
    ]
