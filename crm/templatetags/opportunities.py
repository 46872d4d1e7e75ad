"""``{% prospect_opportunities prospect %}``: the prospect page's opportunities card (the
prospects app sits below crm, so its page reaches the opportunities through this tag)."""

from django import template

from crm.models import Opportunity

register = template.Library()


@register.inclusion_tag("crm/_prospect_opportunities.html")
def prospect_opportunities(prospect) -> dict:
    opportunities = (
        Opportunity.objects.live()
        .filter(contact_roles__prospect=prospect, contact_roles__deleted=False)
        .distinct()
        .order_by("-close_date", "pk")
    )
    return {"prospect": prospect, "opportunities": list(opportunities)}
