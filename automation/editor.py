"""What the criteria editor (``static/automation/criteria.js``) needs: fields, operators and
the objects a value may name, as JSON for ``json_script``."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model

from automation.criteria import OPERATORS, field_catalogue
from automation.models import ProspectList
from crm.models import SalesforceCampaign
from prospects.models import ActivityType, Campaign, CrmQueue


def editor_context(current) -> dict:
    """The editor's catalogue and the document it starts from."""
    if isinstance(current, str):
        try:
            current = json.loads(current or "{}")
        except ValueError:
            current = {}
    catalogue = field_catalogue()
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    campaigns = SalesforceCampaign.objects.live().prefetch_related("member_statuses")
    return {
        "criteria_editor": {
            "fields": [
                {
                    "name": name,
                    "label": spec.label,
                    "group": spec.group,
                    "kind": spec.kind,
                    "choices": [list(c) for c in spec.choices],
                }
                for name, spec in catalogue.items()
            ],
            "operators": OPERATORS,
            "refs": {
                "user": [[u.pk, u.get_full_name() or u.username] for u in users],
                "queue": [[q.pk, q.name] for q in CrmQueue.objects.all()],
                "campaign": [[c.pk, c.name] for c in Campaign.objects.all()],
                "sf_campaign": [[c.pk, c.name] for c in campaigns],
                "list": [[pl.pk, pl.name] for pl in ProspectList.objects.all()],
                "activity": [["any", "Any activity"], *[list(c) for c in ActivityType.choices]],
            },
            "statuses": {c.pk: c.status_labels() for c in campaigns},
        },
        "criteria_initial": current if isinstance(current, dict) else {},
    }
