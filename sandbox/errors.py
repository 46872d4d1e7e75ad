"""Salesforce's error shape: ``[{"message", "errorCode", "fields"}]`` with the HTTP status."""

from dataclasses import dataclass, field


@dataclass
class ApiError(Exception):
    """One Salesforce error; raised anywhere, rendered by the WSGI app as a JSON array."""

    code: str
    message: str
    status: int = 400
    fields: list[str] | None = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def as_rest(self) -> dict:
        """The REST form (``errorCode``)."""
        body = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            body["fields"] = self.fields
        body.update(self.extra)
        return body

    def as_result(self) -> dict:
        """The per-record form used in collections (``statusCode``)."""
        body = {"statusCode": self.code, "message": self.message, "fields": self.fields or []}
        body.update(self.extra)
        return body


def not_found() -> ApiError:
    return ApiError("NOT_FOUND", "The requested resource does not exist", 404, None)


def invalid_session() -> ApiError:
    return ApiError("INVALID_SESSION_ID", "Session expired or invalid", 401, None)


def method_not_allowed(method: str, allowed: list[str]) -> ApiError:
    return ApiError(
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}",
        405,
        None,
    )
