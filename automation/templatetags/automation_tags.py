"""``{% prospect_lists prospect %}``: the prospect page's lists card (prospects sits below
automation, so its page reaches the memberships through this tag)."""

from django import template

from automation.forms import AddToListForm
from automation.models import ListMembership

register = template.Library()


@register.inclusion_tag("automation/_prospect_lists.html")
def prospect_lists(prospect) -> dict:
    memberships = (
        ListMembership.objects.filter(prospect=prospect)
        .select_related("list")
        .order_by("list__name")
    )
    return {"prospect": prospect, "memberships": list(memberships), "form": AddToListForm()}
