"""The prospect search ("name, email or company" contains each word) answered by a trigram
index on PostgreSQL (``pg_trgm``, a trusted extension: the database's owner may create it).
Without it a search of a million prospects read every row, twice (the page and its count)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.db.models.functions import Concat, Lower

import core.indexes


class Migration(migrations.Migration):
    dependencies = [
        ("prospects", "0015_hot_sync_writes"),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddIndex(
            model_name="prospect",
            index=core.indexes.TrigramIndex(
                Lower(
                    Concat(
                        models.F("email"),
                        models.Value(" "),
                        models.F("first_name"),
                        models.Value(" "),
                        models.F("last_name"),
                        models.Value(" "),
                        models.F("company"),
                        output_field=models.TextField(),
                    )
                ),
                name="prospect_search_idx",
            ),
        ),
    ]
