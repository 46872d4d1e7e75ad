"""intake filters, one module per area: imports; forms, form handlers, landing pages and
the preference centre."""

from intake.filters.imports import (  # noqa: F401
    ImportFilter,
)
from intake.filters.marketing import (  # noqa: F401
    FormFilter,
    FormHandlerFilter,
    LandingPageFilter,
)
