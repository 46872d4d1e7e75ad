"""Who applies actions, and the context every action of one run shares."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import models

from prospects.models import SyncReason


class Source(models.TextChoices):
    """Who applies the actions; each has its own sync reason (the guide's triggers)."""

    BULK = "bulk", "Bulk action"
    RULE = "rule", "Automation rule"
    COMPLETION = "completion", "Completion action"
    IMPORT = "import", "Import"

    @property
    def sync_reason(self) -> SyncReason:
        return {
            "bulk": SyncReason.BULK_ACTION,
            "rule": SyncReason.AUTOMATION_RULE,
            "completion": SyncReason.COMPLETION_ACTION,
            "import": SyncReason.CSV_IMPORT,
        }[self.value]

    @property
    def operation(self) -> str:
        """How history names the write (``SyncHistory.operation``, 20 characters)."""
        return {
            "bulk": "bulk action",
            "rule": "automation rule",
            "completion": "completion action",
            "import": "import",
        }[self.value]

    @property
    def list_source(self) -> str:
        """The ``ListMembership.Source`` of members this source adds."""
        return {"bulk": "action", "rule": "rule", "completion": "completion", "import": "import"}[
            self.value
        ]


@dataclass
class Context:
    actor: Any
    source: Source
    reason: SyncReason
    label: str
    now: dt.datetime
    postgres: bool

    @property
    def actor_label(self) -> str:
        if self.actor is None:
            return self.label[:150]
        return (self.actor.get_full_name() or self.actor.get_username())[:150]
