"""Index the prospect's optional links only where set (issue 19, the cost per record).

A push or pull rewrites the prospect row; as it moves ``sync_status`` the update is never HOT,
so it adds an entry to every index whose condition the new row meets. The assigned user,
assigned queue, campaign and grading profile are NULL on most rows: indexed ``WHERE … IS NOT
NULL`` such a row writes no entry. Every lookup by a link (``=``, ``IN``, a join, the deferred
foreign-key checks) implies ``IS NOT NULL``, so each still finds its index.

The new indexes are built before the old ones go, so no lookup is ever without one. The
foreign keys' own indexes are dropped by name rather than by ``AlterField``, which on
PostgreSQL would drop and re-add each foreign-key constraint: a check of every row, under a
lock that stops writes, on a large table.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

LINKS = ("assigned_queue_id", "campaign_id", "grading_profile_id")


def _fk_indexes(apps, schema_editor):
    table = apps.get_model("prospects", "Prospect")._meta.db_table
    quote = schema_editor.quote_name
    return [
        (quote(schema_editor._create_index_name(table, [column], suffix="")), quote(table), column)
        for column in LINKS
    ]


def drop_fk_indexes(apps, schema_editor):
    for name, _table, _column in _fk_indexes(apps, schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create_fk_indexes(apps, schema_editor):
    for name, table, column in _fk_indexes(apps, schema_editor):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({schema_editor.quote_name(column)})"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("prospects", "0012_drop_redundant_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="prospect",
            index=models.Index(
                condition=models.Q(("assigned_user__isnull", False)),
                fields=["assigned_user", "-created_at"],
                name="prospect_assigned_user_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=models.Index(
                condition=models.Q(("assigned_queue__isnull", False)),
                fields=["assigned_queue"],
                name="prospect_assigned_queue_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=models.Index(
                condition=models.Q(("campaign__isnull", False)),
                fields=["campaign"],
                name="prospect_campaign_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=models.Index(
                condition=models.Q(("grading_profile__isnull", False)),
                fields=["grading_profile"],
                name="prospect_grading_profile_idx",
            ),
        ),
        migrations.RemoveIndex(model_name="prospect", name="prospect_assigned_idx"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="prospect",
                    name="assigned_queue",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="prospects",
                        to="prospects.crmqueue",
                    ),
                ),
                migrations.AlterField(
                    model_name="prospect",
                    name="campaign",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="prospects",
                        to="prospects.campaign",
                    ),
                ),
                migrations.AlterField(
                    model_name="prospect",
                    name="grading_profile",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="prospects",
                        to="prospects.gradingprofile",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_fk_indexes, create_fk_indexes, elidable=True)
            ],
        ),
    ]
