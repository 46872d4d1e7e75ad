"""Task, Heartbeat and the role permissions now belong to the core app (its migration 0001).

State only: the tables stay where they are, under their old names, now owned by core.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0003_task"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Task"),
                migrations.DeleteModel(name="Heartbeat"),
                migrations.DeleteModel(name="PortalPermissions"),
            ]
        )
    ]
