"""intake forms, one module per area: imports; forms, form handlers, landing pages and
the preference centre."""

from intake.forms.imports import (  # noqa: F401
    IGNORE,
    MappingForm,
    UploadForm,
)
from intake.forms.marketing import (  # noqa: F401
    COMPLETION_FIELDS,
    ENTRY_FIELDS,
    FormFieldForm,
    FormFieldFormSet,
    FormForm,
    FormHandlerForm,
    HandlerFieldForm,
    HandlerFieldFormSet,
    LandingPageForm,
    PublicForm,
    Styled,
    style,
)
