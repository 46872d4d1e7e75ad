"""The prospect list's opportunity filters (stage; open, won or lost), added by crm at start-up
like the account filters: semi-joins through the contact roles that link prospects to
opportunities (``id IN (SELECT prospect_id FROM crm_opportunitycontactrole …)``)."""

import django_filters
from django.db.models import Q, QuerySet

from crm.models import Opportunity, OpportunityContactRole

OUTCOMES = [("open", "Open"), ("won", "Won"), ("lost", "Lost")]
OUTCOME_CONDITIONS = {
    "open": Q(opportunity__is_closed=False),
    "won": Q(opportunity__is_closed=True, opportunity__is_won=True),
    "lost": Q(opportunity__is_closed=True, opportunity__is_won=False),
}


def _stages() -> list[tuple[str, str]]:
    values = (
        Opportunity.objects.live()
        .exclude(stage="")
        .order_by("stage")
        .values_list("stage", flat=True)
        .distinct()
    )
    return [(v, v) for v in values]


def by_opportunity(queryset: QuerySet, condition: Q) -> QuerySet:
    """Prospects with a live contact role on a live opportunity matching ``condition``."""
    roles = OpportunityContactRole.objects.filter(
        condition,
        deleted=False,
        prospect__isnull=False,
        opportunity__deleted_at__isnull=True,
    )
    return queryset.filter(pk__in=roles.values("prospect_id"))


def opportunity_filters() -> dict[str, django_filters.Filter]:
    return {
        "opportunity_stage": django_filters.ChoiceFilter(
            label="Opportunity stage",
            choices=_stages,
            empty_label="Any stage",
            method=lambda qs, name, value: by_opportunity(qs, Q(opportunity__stage=value)),
        ),
        "opportunity_outcome": django_filters.ChoiceFilter(
            label="Opportunity",
            choices=OUTCOMES,
            empty_label="Any or none",
            method=lambda qs, name, value: by_opportunity(qs, OUTCOME_CONDITIONS[value]),
        ),
    }
