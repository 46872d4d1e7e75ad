"""intake tables, one module per area: imports; forms, form handlers, landing pages and
the preference centre."""

from intake.tables.imports import (  # noqa: F401
    STATE_BADGES,
    CountColumn,
    ImportProblemTable,
    ImportTable,
)
from intake.tables.marketing import (  # noqa: F401
    ATTRS,
    FormHandlerTable,
    FormTable,
    LandingPageTable,
)
