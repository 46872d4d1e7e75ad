import django_filters

from prospects.filters import ProspectFilter
from prospects.models import SCORE_VALIDATORS
from sync.errors.filters import SyncErrorFilter

MAX_DB_ID = 2**63 - 1
SCORE_MIN, SCORE_MAX = (v.limit_value for v in SCORE_VALIDATORS)


class ApiProspectFilter(ProspectFilter):
    """The prospect list page's filters, with two differences for API clients:
    ``assigned_user`` takes any user id (one that matches nobody lists nothing; the page offers
    a list of users instead), and ``score_min``/``score_max`` are refused outside the scores
    a prospect can have (a number no database column holds must be a 400, not a crash)."""

    assigned_user = django_filters.NumberFilter(
        field_name="assigned_user_id",
        label="Assigned to (user id)",
        min_value=1,
        max_value=MAX_DB_ID,
    )
    score = None
    score_min = django_filters.NumberFilter(
        field_name="score", lookup_expr="gte", min_value=SCORE_MIN, max_value=SCORE_MAX
    )
    score_max = django_filters.NumberFilter(
        field_name="score", lookup_expr="lte", min_value=SCORE_MIN, max_value=SCORE_MAX
    )

    class Meta(ProspectFilter.Meta):
        fields = ["q", "assigned_user", "crm_status", "score_min", "score_max", "created_at"]

    def __init__(self, *args, **kwargs):
        # The page's __init__ styles the score range's two widgets, which this has not.
        super(ProspectFilter, self).__init__(*args, **kwargs)


class ApiSyncErrorFilter(SyncErrorFilter):
    """The Sync Errors page's filters; a prospect id in ``q`` beyond any id is nobody's."""

    def filter_prospect(self, queryset, name, value):
        text = value.strip()
        if text.isascii() and text.isdigit() and int(text) > MAX_DB_ID:
            return queryset.none()
        return super().filter_prospect(queryset, name, value)
