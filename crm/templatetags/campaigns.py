"""``{% prospect_campaigns prospect %}``: the prospect page's Salesforce campaigns card (the
prospects app sits below crm, so its page reaches the memberships through this tag)."""

from django import template

from crm.forms import AddToCampaignForm
from crm.models import CampaignMembership

register = template.Library()


@register.inclusion_tag("crm/_prospect_campaigns.html")
def prospect_campaigns(prospect) -> dict:
    memberships = (
        CampaignMembership.objects.filter(prospect=prospect)
        .select_related("campaign")
        .prefetch_related("campaign__member_statuses")
        .order_by("campaign__name")
    )
    return {
        "prospect": prospect,
        "memberships": list(memberships),
        "form": AddToCampaignForm(),
    }
