"""The prospect list on a million prospects (issue 19: <= 200 ms).

- Its search ("name, email or company" contains each word) is answered by a trigram index on
  PostgreSQL (``pg_trgm``, a trusted extension: the database's owner may create it). Without it
  a search read every row, for the page and again for its count.
- Its default order and its count come from one index of the prospects not archived, which
  replaces the plain ``created_at`` index: the count of a million reads the index alone (after
  a vacuum), where it read the whole table.

Building these on a large table holds writes to it for the while (about a minute a million).
"""

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
        migrations.AlterField(
            model_name="prospect",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["-created_at", "-id"],
                name="prospect_active_created_idx",
            ),
        ),
    ]
