"""The prospect page's CRM panel: its Salesforce account and its owner's state.

The prospect page belongs to ``prospects``, below ``crm``: it cannot import crm's models, so it
loads this tag, which reads them (``{% load crm_tags %}{% prospect_crm prospect %}``).
"""

from django import template

from crm.models import Account, SalesforceUser

register = template.Library()


@register.inclusion_tag("crm/_prospect_crm.html")
def prospect_crm(prospect) -> dict:
    account = (
        Account.objects.filter(sf_id=prospect.crm_account_id).first()
        if prospect.crm_account_id
        else None
    )
    owner = (
        SalesforceUser.objects.filter(portal_user_id=prospect.assigned_user_id).first()
        if prospect.assigned_user_id
        else None
    )
    return {"prospect": prospect, "account": account, "owner": owner}
