"""Index kinds the models share."""

from __future__ import annotations

from django.contrib.postgres.indexes import OpClass
from django.db import models


class PrefixIndex(models.Index):
    """A B-tree index on expressions that also answers ``LIKE 'prefix%'``.

    On PostgreSQL the expressions take ``text_pattern_ops``: a default B-tree answers a prefix
    ``LIKE`` only under the C collation, while this one does under any (and still answers ``=``
    and ``IN``). Other databases get a plain index.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        patterned = models.Index(
            *[OpClass(expression, name="text_pattern_ops") for expression in self.expressions],
            name=self.name,
        )
        return patterned.create_sql(model, schema_editor, using=using, **kwargs)


class TrigramIndex(models.Index):
    """A GIN trigram index (``pg_trgm``) on one text expression: it answers ``LIKE '%word%'``
    (Django's ``contains``) without reading every row. The migration that adds one must create
    the extension first (``TrigramExtension()``). Other databases get a plain index, which
    their ``LIKE`` cannot use: a table scan, as before.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        from django.contrib.postgres.indexes import GinIndex

        trigrams = GinIndex(
            *[OpClass(expression, name="gin_trgm_ops") for expression in self.expressions],
            name=self.name,
        )
        return trigrams.create_sql(model, schema_editor, using=using, **kwargs)
