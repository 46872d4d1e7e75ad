"""Serializer fields that take JSON's own types only.

DRF is lenient by default: ``5`` for a text field becomes ``"5"``, ``"yes"`` and ``1`` become
``true``, ``"12"`` an integer. An API client that sends the wrong type has a bug, and guessing
hides it, so these fields refuse anything but the schema's type (400, naming the field).
"""

from django.db import models
from rest_framework import serializers


def _strict(base: type, types: tuple[type, ...]) -> type:
    class Strict(base):
        def to_internal_value(self, data):
            if not isinstance(data, types) or (isinstance(data, bool) and bool not in types):
                self.fail("invalid")
            return super().to_internal_value(data)

    Strict.__name__ = Strict.__qualname__ = f"Strict{base.__name__}"
    return Strict


StrictCharField = _strict(serializers.CharField, (str,))
StrictEmailField = _strict(serializers.EmailField, (str,))
StrictURLField = _strict(serializers.URLField, (str,))
StrictRegexField = _strict(serializers.RegexField, (str,))
StrictBooleanField = _strict(serializers.BooleanField, (bool,))
StrictIntegerField = _strict(serializers.IntegerField, (int,))
# Numbers, not strings: the schema says ``number`` (``coerce_to_string=False``).
StrictDecimalField = _strict(serializers.DecimalField, (int, float))

FIELD_MAPPING = {
    **serializers.ModelSerializer.serializer_field_mapping,
    models.CharField: StrictCharField,
    models.TextField: StrictCharField,
    models.EmailField: StrictEmailField,
    models.URLField: StrictURLField,
    models.BooleanField: StrictBooleanField,
    models.IntegerField: StrictIntegerField,
    models.SmallIntegerField: StrictIntegerField,
    models.BigIntegerField: StrictIntegerField,
    models.PositiveIntegerField: StrictIntegerField,
    models.PositiveSmallIntegerField: StrictIntegerField,
    models.DecimalField: StrictDecimalField,
}
