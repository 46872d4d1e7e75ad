"""What the criteria editor (``static/automation/criteria.js``) needs: fields, operators and
the objects a value may name, as JSON for ``json_script``."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from automation.criteria import OPERATORS, field_catalogue
from automation.models import ProspectList
from crm.models import SalesforceCampaign
from prospects.models import ActivityType, Campaign, CrmQueue


def editor_context(current=None) -> dict:
    """The editor's catalogue. What marketers named (custom field labels, lists, campaigns,
    users, queues, statuses) goes into the page as HTML (hidden selects, escaped); only the
    constant part (field kinds, operators, fixed choices) is JSON in a script element."""
    catalogue = field_catalogue()
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    campaigns = list(SalesforceCampaign.objects.live().prefetch_related("member_statuses"))
    groups: dict[str, list] = {}
    for name, spec in catalogue.items():
        groups.setdefault(spec.group, []).append((name, spec.label))
    return {
        "criteria_editor": {
            "fields": {
                name: {"kind": spec.kind, "choices": [list(c) for c in spec.choices]}
                for name, spec in catalogue.items()
            },
            "operators": OPERATORS,
            "activity": [["any", "Any activity"], *[list(c) for c in ActivityType.choices]],
        },
        "criteria_field_groups": groups.items(),
        "criteria_refs": [
            ("user", [(u.pk, u.get_full_name() or u.username) for u in users]),
            ("queue", [(q.pk, q.name) for q in CrmQueue.objects.all()]),
            ("campaign", [(c.pk, c.name) for c in Campaign.objects.all()]),
            ("sf_campaign", [(c.pk, c.name) for c in campaigns]),
            ("list", [(pl.pk, pl.name) for pl in ProspectList.objects.all()]),
        ],
        "criteria_statuses": [(c.pk, c.status_labels()) for c in campaigns],
    }
