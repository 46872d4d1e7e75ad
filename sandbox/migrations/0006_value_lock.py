from django.db import migrations, models


def unlogged(apps, schema_editor) -> None:
    """Its rows never outlive a transaction: no write-ahead log for them (PostgreSQL)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE sandbox_valuelock SET UNLOGGED")


class Migration(migrations.Migration):
    dependencies = [
        ("sandbox", "0005_faultconfig_drop_after_rate"),
    ]

    operations = [
        migrations.CreateModel(
            name="ValueLock",
            fields=[
                ("key", models.BigIntegerField(primary_key=True, serialize=False)),
            ],
        ),
        migrations.RunPython(unlogged, migrations.RunPython.noop),
    ]
