"""The OpenAPI schema's shared parts: the error answers every operation may give."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "What was wrong: `detail` for the request as a whole, or each field's messages by "
        "field name (a batch row's problems are in its result instead)."
    ),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
# Status → when it is given.
ERRORS = {
    "400": "Malformed JSON, wrong types, unknown or read-only fields, bad filter values",
    "401": "No key, or an unknown or revoked key, or the key's user is deactivated",
    "403": "The key's user has no role",
    "404": "No such object, or a stale pagination cursor",
    "413": "The request body is over API_MAX_BODY_BYTES",
    "415": "The body is not in a supported media type",
    "429": "Over the key's rate limit (see the Retry-After header)",
}


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular post-processing hook: document the refusals of every operation, and
    that request bodies take no field besides theirs."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    # Request bodies refuse fields they do not take (api.serializers.StrictMixin).
    for name, component in components.items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    reference = {"$ref": "#/components/schemas/Error"}
    for _path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                if code in ("413", "415") and method not in ("post", "put", "patch"):
                    continue
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The key in the schema, so the docs' Authorize button takes one."""

    target_class = "api.auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API key (My API keys, in the user menu).",
        }
