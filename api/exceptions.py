"""Every refusal is JSON with what was wrong, never an HTML page or a 500."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler

from api.parsers import BodyTooLarge


def handle_exception(exc, context):
    """DRF's handler, after turning Django's own refusals of a request into API errors:
    an oversized upload → 413, a malformed one → 400, a model validation error → 400."""
    if isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge.over(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(str(exc) or "Malformed request.")
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    return exception_handler(exc, context)
