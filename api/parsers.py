"""JSON bodies with a size limit (``API_MAX_BODY_BYTES``): DRF reads the request stream itself,
past Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` check, so the limit is enforced here."""

import io

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.parsers import JSONParser


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"

    @classmethod
    def over(cls, limit: int) -> "BodyTooLarge":
        return cls(
            f"The request body is over {limit:,} bytes: send fewer records per request "
            "(batch upserts take up to 1,000)."
        )


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        too_large = BodyTooLarge.over(limit)
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise too_large
        return super().parse(io.BytesIO(body), media_type, parser_context)
