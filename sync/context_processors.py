"""The "needs attention" banner every Sync admin sees (wired in settings by the lead).

Add ``"sync.context_processors.connector_attention"`` to the template context processors and
``{% include "sync/connector_banner_global.html" %}`` above ``{% block content %}`` in base.html.
"""

from django.http import HttpRequest

from portal.roles import is_sync_admin
from sync.models import Connector
from sync.verification import problem_messages


def connector_attention(request: HttpRequest) -> dict:
    """One query for Sync admins; nothing for anyone else."""
    user = getattr(request, "user", None)
    if user is None or not is_sync_admin(user):
        return {}
    connector = (
        Connector.objects.filter(state=Connector.State.NEEDS_ATTENTION)
        .only("pk", "state", "problems", "verified_at")
        .first()
    )
    if connector is None:
        return {}
    return {"sync_attention": problem_messages(connector), "sync_attention_connector": connector}
