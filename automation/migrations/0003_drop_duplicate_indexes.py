"""Drop four single-column foreign-key indexes that other indexes already cover.

- ``automation_listmembership``: ``list_id`` is the leading column of the unique
  (list, prospect) and of (list, -id); ``prospect_id`` duplicated "automation_member_prospect".
- ``automation_ruletouch``: ``rule_id`` leads the unique (rule, prospect); ``prospect_id``
  duplicated "automation_touch_prospect".

Each membership or touch row paid a write to each of them (a dynamic list over a million
prospects inserts hundreds of thousands at once); no query needed them. Only the indexes go:
the foreign keys stay as they are (no table rewrite, no re-validation).
"""

import django.db.models.deletion
from django.db import migrations, models

DUPLICATES = [
    ("automation_listmembership_list_id_2e111d2d", "automation_listmembership", "list_id"),
    ("automation_listmembership_prospect_id_2c0028f5", "automation_listmembership", "prospect_id"),
    ("automation_ruletouch_prospect_id_dd8485bf", "automation_ruletouch", "prospect_id"),
    ("automation_ruletouch_rule_id_5fbdeaf2", "automation_ruletouch", "rule_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0002_lists_problems_and_loop_guard"),
        ("prospects", "0012_drop_redundant_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")',
                )
                for name, table, column in DUPLICATES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="listmembership",
                    name="list",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="automation.prospectlist",
                    ),
                ),
                migrations.AlterField(
                    model_name="listmembership",
                    name="prospect",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="list_memberships",
                        to="prospects.prospect",
                    ),
                ),
                migrations.AlterField(
                    model_name="ruletouch",
                    name="prospect",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="prospects.prospect",
                    ),
                ),
                migrations.AlterField(
                    model_name="ruletouch",
                    name="rule",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="automation.rule",
                    ),
                ),
            ],
        )
    ]
