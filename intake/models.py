"""The intake app's models. Forms, form handlers and landing pages live in ``form_models.py``
(kept apart so the import models can sit in this module beside them)."""

from intake.form_models import (
    CompletionActions,
    Form,
    FormField,
    FormHandler,
    FormHandlerField,
    LandingPage,
    ReceivedSubmission,
)

__all__ = [
    "CompletionActions",
    "Form",
    "FormField",
    "FormHandler",
    "FormHandlerField",
    "LandingPage",
    "ReceivedSubmission",
]
