import uuid

from django.db import migrations, models


def fill_sync_keys(apps, schema_editor):
    Prospect = apps.get_model("prospects", "Prospect")
    for pk in (
        Prospect.objects.filter(sync_key__isnull=True).values_list("pk", flat=True).iterator()
    ):
        Prospect.objects.filter(pk=pk).update(sync_key=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("prospects", "0002_customfield_prospect_crm_modified_at_and_more")]

    operations = [
        migrations.AddField(
            model_name="prospect",
            name="sync_key",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(fill_sync_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="prospect",
            name="sync_key",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
