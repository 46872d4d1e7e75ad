"""The org's HTTP plumbing: a WSGI environ read into a ``Request``, a ``Response`` written back,
and Salesforce's error shape in between.

Every resource module (routes, composite, bulk) speaks these types and nothing of WSGI; the
WSGI entry point is ``sandbox/app.py``.
"""

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

from sandbox.errors import ApiError, method_not_allowed
from sandbox.schema import Actor

MAX_BODY = 150 * 1024 * 1024
MAX_JSON_BODY = 20 * 1024 * 1024
READ_SIZE = 1024 * 1024  # a chunked body is read in pieces of this size


@dataclass
class Request:
    """One call: a top-level request, or a Composite subrequest (``internal``)."""

    method: str
    segments: list[str]
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    instance_url: str
    version: str = ""
    actor: Actor | None = None
    internal: bool = False

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def allows_duplicates(self) -> bool:
        """``Sforce-Duplicate-Rule-Header: allowSave=true``: save past alert duplicate rules."""
        header = self.header("sforce-duplicate-rule-header").replace(" ", "").lower()
        return "allowsave=true" in header

    def form(self) -> dict[str, str]:
        """The body as an ``application/x-www-form-urlencoded`` form (first value of each key)."""
        text = self.body.decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def json(self) -> object:
        """The body as JSON, or JSON_PARSER_ERROR as Salesforce words it."""
        if len(self.body) > MAX_JSON_BODY:
            raise ApiError(
                "JSON_PARSER_ERROR",
                f"Request body exceeds the maximum size of {MAX_JSON_BODY} bytes",
                413,
                None,
            )
        if not self.body.strip():
            raise ApiError(
                "JSON_PARSER_ERROR", "The request body is either invalid or incomplete.", 400, None
            )
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            line, column = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
            raise ApiError(
                "JSON_PARSER_ERROR",
                f"Unexpected character ('{_char_at(exc)}' (code "
                f"{ord(_char_at(exc) or ' ')})): was expecting double-quote to start "
                f"field name at [line:{line}, column:{column}]",
                400,
                None,
            ) from exc


def _char_at(exc: Exception) -> str:
    doc, pos = getattr(exc, "doc", ""), getattr(exc, "pos", 0)
    return doc[pos] if isinstance(doc, str) and pos < len(doc) else " "


@dataclass
class Response:
    status: int
    payload: object = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json;charset=UTF-8"

    def body(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.payload is None and self.status == 204:
            return b""
        return json.dumps(self.payload, ensure_ascii=False).encode()


class MultipleChoices(ApiError):
    """An external id matching several records: HTTP 300 with the records' URLs."""

    def __init__(self, urls: list[str]):
        super().__init__("MULTIPLE_CHOICES", "", 300, None)
        self.urls = urls


def error_response(error: ApiError) -> Response:
    """An error as Salesforce answers it: a JSON array of one error (300: the list of URLs)."""
    if isinstance(error, MultipleChoices):
        return Response(300, error.urls)
    return Response(error.status, [error.as_rest()])


def require(request: Request, *methods: str) -> None:
    """METHOD_NOT_ALLOWED unless the request uses one of ``methods``."""
    if request.method not in methods:
        raise method_not_allowed(request.method, list(methods))


def parse_query(text: str) -> dict[str, str]:
    """A query string as a dict (first value of each key; ``+`` is a space)."""
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def build_request(environ: dict) -> Request:
    """The WSGI environ as a ``Request`` (body read whole)."""
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
    path, _, query_text = raw.partition("?")
    if not query_text:
        query_text = environ.get("QUERY_STRING", "")
    segments = [unquote(part) for part in path.split("/")]
    while segments and segments[-1] == "":
        segments.pop()
    headers = {
        k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    return Request(
        method=environ["REQUEST_METHOD"].upper(),
        segments=segments[1:],
        query=parse_query(query_text),
        headers=headers,
        body=_read_body(environ),
        instance_url=_instance_url(environ),
    )


def _instance_url(environ: dict) -> str:
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    host = host.removesuffix(":443")
    return f"https://{host}"


def _read_body(environ: dict) -> bytes:
    """The request body: ``Content-Length`` bytes or, for ``Transfer-Encoding: chunked`` (Node
    clients such as jsforce send a form or a CSV upload that way, with no length), everything
    up to the end of the body. Refused past MAX_BODY either way.
    """
    if _is_chunked(environ):
        return _read_to_end(environ["wsgi.input"])
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        raise _too_large(length)
    return environ["wsgi.input"].read(length) if length else b""


def _is_chunked(environ: dict) -> bool:
    """A body without a length: cheroot decodes the chunks and marks the input terminated
    (``wsgi.input_terminated``, the mod_wsgi convention), so reading to EOF is safe."""
    return bool(environ.get("wsgi.input_terminated")) or (
        "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    )


def _read_to_end(stream) -> bytes:
    body = bytearray()
    while piece := stream.read(READ_SIZE):
        body += piece
        if len(body) > MAX_BODY:
            raise _too_large(len(body))
    return bytes(body)


def _too_large(length: int) -> ApiError:
    return ApiError(
        "REQUEST_ENTITY_TOO_LARGE",
        f"Request body of {length} bytes exceeds the limit of {MAX_BODY} bytes",
        413,
        None,
    )
