"""``{% prospect_custom_objects prospect %}``: the prospect page's custom object cards, one per
mirrored object with records related to the prospect's lead, contact or account."""

from django import template
from django.db.models import Q

from crm.models import CustomObjectRecord
from crm.models.custom_objects import PROSPECT_COLUMN

register = template.Library()

SHOWN_RECORDS = 25


@register.inclusion_tag("crm/_prospect_custom_objects.html")
def prospect_custom_objects(prospect) -> dict:
    related = Q(pk__in=[])
    for target, column in PROSPECT_COLUMN.items():
        value = getattr(prospect, column)
        if value:
            related |= Q(definition__lookup_to=target, parent_sf_id=value)
    records = (
        CustomObjectRecord.objects.filter(related)
        .select_related("definition")
        .order_by("definition__label", "definition_id", "name", "pk")
    )
    groups: dict[int, dict] = {}
    for record in records:
        group = groups.setdefault(
            record.definition_id, {"definition": record.definition, "records": [], "more": 0}
        )
        if len(group["records"]) < SHOWN_RECORDS:
            group["records"].append(record)
        else:
            group["more"] += 1
    return {"prospect": prospect, "groups": list(groups.values())}
