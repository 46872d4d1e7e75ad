"""The pending-sync queue and the history move from ``sync`` to ``prospects`` (state only).

Their tables keep the names the sync app gave them, so no row moves; the content types are
re-pointed so admin log entries and any granted permissions follow.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ["syncqueueitem", "synchistory"]


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if ContentType.objects.filter(app_label="prospects", model=model).exists():
            ContentType.objects.filter(app_label="sync", model=model).delete()
        else:
            ContentType.objects.filter(app_label="sync", model=model).update(app_label="prospects")


def move_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="prospects", model__in=MOVED).update(app_label="sync")


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0004_synchistory_actor"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("prospects", "0006_multi_select_as_salesforce_string"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SyncQueueItem",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "reason",
                            models.CharField(
                                choices=[
                                    ("field_update", "Prospect field updated"),
                                    ("campaign_change", "Campaign changed"),
                                    ("assignment_change", "Assigned user changed"),
                                    ("manual", "Sync with CRM (manual)"),
                                    ("error_reimport", "Sync Errors re-import"),
                                    ("error_resync", "Sync Errors resync"),
                                    ("form_handler", "Form handler submission"),
                                    ("landing_page", "Landing page submission"),
                                    ("unsubscribe", "Unsubscribed"),
                                    ("resubscribe", "Resubscribed"),
                                    ("csv_import", "CSV import"),
                                    ("automation_rule", "Automation rule"),
                                    ("initial_sync", "Initial sync"),
                                ],
                                max_length=30,
                            ),
                        ),
                        ("requested_at", models.DateTimeField(db_index=True)),
                        ("generation", models.PositiveIntegerField(default=1)),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        (
                            "not_before",
                            models.DateTimeField(
                                blank=True, help_text="Backoff after a failure.", null=True
                            ),
                        ),
                        ("claimed_at", models.DateTimeField(blank=True, null=True)),
                        ("claimed_by", models.CharField(blank=True, max_length=100)),
                        (
                            "prospect",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="sync_queue_item",
                                to="prospects.prospect",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "sync_syncqueueitem",
                        "ordering": ["requested_at", "pk"],
                    },
                ),
                migrations.CreateModel(
                    name="SyncHistory",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("at", models.DateTimeField(db_index=True)),
                        (
                            "direction",
                            models.CharField(
                                choices=[
                                    ("outbound", "Leadbridge → Salesforce"),
                                    ("inbound", "Salesforce → Leadbridge"),
                                    ("local", "In Leadbridge"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("operation", models.CharField(max_length=20)),
                        ("sobject", models.CharField(blank=True, max_length=100)),
                        ("record_id", models.CharField(blank=True, max_length=18)),
                        ("reason", models.CharField(blank=True, max_length=30)),
                        (
                            "changes",
                            models.JSONField(
                                blank=True,
                                default=list,
                                help_text='[{"field", "old", "new", "rule"}, ...]',
                            ),
                        ),
                        (
                            "result",
                            models.CharField(
                                choices=[
                                    ("ok", "Synced"),
                                    ("nothing", "Nothing to send"),
                                    ("error", "Refused"),
                                    ("waiting", "Waiting for assignment"),
                                    ("skipped", "Skipped"),
                                    ("done", "Done"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("message", models.TextField(blank=True)),
                        (
                            "actor_label",
                            models.CharField(
                                blank=True,
                                help_text="The user's name when they acted (kept if deleted).",
                                max_length=150,
                            ),
                        ),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                help_text="The portal user who did it; empty when the system did (a pull, a push).",
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "prospect",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="sync_history",
                                to="prospects.prospect",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "sync_synchistory",
                        "ordering": ["-at", "-pk"],
                        "indexes": [
                            models.Index(fields=["prospect", "-at"], name="synchistory_prospect_at")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_back),
    ]
