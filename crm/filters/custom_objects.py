"""The prospect list's custom object filter: prospects with a mirrored record whose field equals
a value (``Subscription: Plan = Growth``), added by crm at start-up like the account filters.
Two inputs: the field (``custom_object_field``, "<object>.<field>") and the value
(``custom_object_value``, compared without regard to case); a semi-join on the lead, contact or
account id the prospect stores."""

import django_filters
from django.db.models import QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Upper

from crm.models import CustomObjectDefinition, CustomObjectRecord

FIELD = "custom_object_field"
VALUE = "custom_object_value"


def _fields() -> list[tuple[str, str]]:
    return [
        (f"{d.api_name}.{f['name']}", f"{d.label}: {f['label']}")
        for d in CustomObjectDefinition.objects.order_by("label", "pk")
        for f in [{"name": "Name", "label": "Name"}, *d.fields]
    ]


def by_custom_field(queryset: QuerySet, choice: str, value: str) -> QuerySet:
    """Prospects related to a record of the object whose field equals ``value`` (any case)."""
    api_name, _, field = choice.partition(".")
    definition = CustomObjectDefinition.objects.filter(api_name=api_name).first()
    if definition is None or (field != "Name" and field not in definition.field_names):
        return queryset.none()
    records = CustomObjectRecord.objects.filter(definition=definition)
    if field == "Name":
        records = records.filter(name__iexact=value)
    else:
        records = records.annotate(field_text=Upper(KeyTextTransform(field, "values"))).filter(
            field_text=value.upper()
        )
    return queryset.filter(**{f"{definition.prospect_column}__in": records.values("parent_sf_id")})


class CustomFieldValueFilter(django_filters.CharFilter):
    """The value half: filters only once a field is chosen (read from the same form)."""

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        choice = self.parent.form.cleaned_data.get(FIELD) if self.parent else ""
        if value in (None, "") or not choice:
            return qs
        return by_custom_field(qs, choice, value)


def custom_object_filters() -> dict[str, django_filters.Filter]:
    return {
        FIELD: django_filters.ChoiceFilter(
            label="Custom object field",
            choices=_fields,
            empty_label="Any custom object field",
            method=lambda qs, name, value: qs,  # the value filter does the work
        ),
        VALUE: CustomFieldValueFilter(label="equals"),
    }
