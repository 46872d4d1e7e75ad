"""The pending-sync queue and the history now belong to ``prospects`` (state only: the tables
stay, see prospects/0007)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("prospects", "0007_move_sync_queue_and_history_here"),
        ("sync", "0004_synchistory_actor"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(
                    model_name="synchistory",
                    name="synchistory_prospect_at",
                ),
                migrations.RemoveField(
                    model_name="synchistory",
                    name="actor",
                ),
                migrations.RemoveField(
                    model_name="synchistory",
                    name="prospect",
                ),
                migrations.DeleteModel(
                    name="SyncQueueItem",
                ),
                migrations.DeleteModel(
                    name="SyncHistory",
                ),
            ],
            database_operations=[],
        ),
    ]
