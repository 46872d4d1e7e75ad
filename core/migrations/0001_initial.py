"""The portal app's shared models move here, tables and all: state only, no table changes.

The tables keep their names (``portal_task``, ``portal_heartbeat``); ``portal``'s migration 0004
drops the models from the portal app's state.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

STATE = [
    migrations.CreateModel(
        name="PortalPermissions",
        fields=[
            (
                "id",
                models.BigAutoField(
                    auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                ),
            ),
        ],
        options={
            "permissions": [
                ("use_portal", "Can use the portal (Marketer)"),
                ("administer_sync", "Can administer the connector and field sync (Sync admin)"),
            ],
            "managed": False,
            "default_permissions": (),
        },
    ),
    migrations.CreateModel(
        name="Heartbeat",
        fields=[
            (
                "id",
                models.BigAutoField(
                    auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                ),
            ),
            ("name", models.CharField(max_length=50, unique=True)),
            ("beat_at", models.DateTimeField()),
            ("count", models.PositiveBigIntegerField(default=0)),
        ],
        options={"db_table": "portal_heartbeat"},
    ),
    migrations.CreateModel(
        name="Task",
        fields=[
            (
                "id",
                models.BigAutoField(
                    auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                ),
            ),
            ("kind", models.CharField(max_length=50)),
            (
                "state",
                models.CharField(
                    choices=[
                        ("queued", "Queued"),
                        ("running", "Running"),
                        ("done", "Done"),
                        ("failed", "Failed"),
                    ],
                    default="queued",
                    max_length=10,
                ),
            ),
            ("total", models.PositiveIntegerField(default=0)),
            ("done", models.PositiveIntegerField(default=0)),
            ("failed", models.PositiveIntegerField(default=0)),
            ("message", models.TextField(blank=True)),
            ("result", models.JSONField(blank=True, default=dict)),
            ("created_at", models.DateTimeField(auto_now_add=True)),
            ("finished_at", models.DateTimeField(blank=True, null=True)),
            (
                "created_by",
                models.ForeignKey(
                    blank=True,
                    null=True,
                    on_delete=django.db.models.deletion.SET_NULL,
                    related_name="+",
                    to=settings.AUTH_USER_MODEL,
                ),
            ),
        ],
        options={"ordering": ["-created_at"], "db_table": "portal_task"},
    ),
]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("portal", "0003_task"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=STATE)]
