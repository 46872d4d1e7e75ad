"""intake views, one module per area: imports; forms, form handlers, landing pages and
the preference centre."""

from intake.views.imports import (  # noqa: F401
    POLL_EVERY,
    ImportListView,
    import_cancel,
    import_detail,
    import_map,
    import_new,
    import_report,
)
from intake.views.marketing import (  # noqa: F401
    TABS,
    FormCreateView,
    FormHandlerCreateView,
    FormHandlerListView,
    FormHandlerUpdateView,
    FormListView,
    FormUpdateView,
    LandingPageCreateView,
    LandingPageListView,
    LandingPageUpdateView,
    preference_links,
)
