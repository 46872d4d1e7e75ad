"""The prospects app's models: the prospects themselves (``prospect.py``), and the sync state
every writer shares — the pending-sync queue and the history (``sync.py``)."""

from prospects.models.activity import Activity, ActivityType
from prospects.models.prospect import (
    CUSTOM_PREFIX,
    MULTI_SEPARATOR,
    SCORE_VALIDATORS,
    TEXT_TYPES,
    Campaign,
    CrmQueue,
    CrmStatus,
    CustomField,
    Grade,
    Prospect,
    ProspectQuerySet,
    SyncStatus,
    custom_value,
)
from prospects.models.scoring import (
    DEFAULT_POINTS,
    GRADE_LEVELS,
    GradingCriterion,
    GradingProfile,
    ScoringRule,
    ScoringSettings,
)
from prospects.models.sync import (
    Direction,
    SyncHistory,
    SyncHistoryManager,
    SyncQueueItem,
    SyncReason,
    actor_name,
)

__all__ = [
    "Activity",
    "DEFAULT_POINTS",
    "GRADE_LEVELS",
    "GradingCriterion",
    "GradingProfile",
    "ScoringRule",
    "ScoringSettings",
    "ActivityType",
    "CUSTOM_PREFIX",
    "MULTI_SEPARATOR",
    "SCORE_VALIDATORS",
    "TEXT_TYPES",
    "Campaign",
    "CrmQueue",
    "CrmStatus",
    "CustomField",
    "Direction",
    "Grade",
    "Prospect",
    "ProspectQuerySet",
    "SyncHistory",
    "SyncHistoryManager",
    "SyncQueueItem",
    "SyncReason",
    "SyncStatus",
    "actor_name",
    "custom_value",
]
