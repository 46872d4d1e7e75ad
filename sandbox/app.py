"""The sandbox org's WSGI application: parse the request, route it, answer in Salesforce's shape.

Every failure — a bad token, malformed JSON, an unknown resource, a wrong method, an oversized
body, even a bug — leaves as a Salesforce JSON error array, never an HTML page.
"""

import contextlib
import json
import logging
import secrets
import socket
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, unquote

from django.db import close_old_connections, connections
from django.db.utils import InterfaceError, OperationalError

from sandbox.errors import ApiError
from sandbox.faults import DropConnection
from sandbox.schema import Actor

log = logging.getLogger("sandbox")
MAX_BODY = 150 * 1024 * 1024
MAX_JSON_BODY = 20 * 1024 * 1024


@dataclass
class Request:
    method: str
    segments: list[str]
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    instance_url: str
    version: str = ""
    actor: Actor | None = None
    token: object = None
    internal: bool = False

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

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


def error_response(error: ApiError) -> Response:
    return Response(error.status, [error.as_rest()])


def _instance_url(environ: dict) -> str:
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    host = host.removesuffix(":443")
    return f"https://{host}"


def _read_body(environ: dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        raise ApiError(
            "REQUEST_ENTITY_TOO_LARGE",
            f"Request body of {length} bytes exceeds the limit of {MAX_BODY} bytes",
            413,
            None,
        )
    return environ["wsgi.input"].read(length) if length else b""


def build_request(environ: dict) -> Request:
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
    path, _, query_text = raw.partition("?")
    if not query_text:
        query_text = environ.get("QUERY_STRING", "")
    segments = [unquote(part) for part in path.split("/")]
    while segments and segments[-1] == "":
        segments.pop()
    query = {k: v[0] for k, v in parse_qs(query_text, keep_blank_values=True).items()}
    headers = {
        k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    return Request(
        method=environ["REQUEST_METHOD"].upper(),
        segments=segments[1:],
        query=query,
        headers=headers,
        body=_read_body(environ),
        instance_url=_instance_url(environ),
    )


def _handle(environ: dict) -> Response:
    from sandbox.routes import dispatch

    try:
        request = build_request(environ)
        return dispatch(request)
    except ApiError as error:
        return error_response(error)
    except DropConnection:
        return Response(0)
    except (OperationalError, InterfaceError):
        connections["sandbox"].close()
        log.exception("database error")
        return _unknown_exception()
    except Exception:  # noqa: BLE001 - the org answers every request in Salesforce's shape
        log.exception("unhandled error")
        return _unknown_exception()


def _unknown_exception() -> Response:
    error_id = f"{secrets.randbelow(10**9)}-{secrets.randbelow(10**5)}"
    return error_response(
        ApiError(
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you "
            f"contact support: {error_id} ({error_id})",
            500,
            None,
        )
    )


def _drop(start_response) -> None:
    """Shut the client's socket (cheroot's gateway holds it) so the call gets no answer."""
    gateway = getattr(start_response, "__self__", None)
    connection = getattr(getattr(gateway, "req", None), "conn", None)
    sock = getattr(connection, "socket", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("sandbox fault: dropped connection")


def application(environ: dict, start_response) -> list[bytes]:
    """The WSGI entry point."""
    close_old_connections()
    response = _handle(environ)
    if response.status == 0:
        _drop(start_response)
        return []
    body = response.body()
    headers = [("Content-Type", response.content_type)] if body else []
    headers += list(response.headers.items())
    headers.append(("Content-Length", str(len(body))))
    phrase = (
        HTTPStatus(response.status).phrase
        if response.status in HTTPStatus._value2member_map_
        else "Status"
    )
    start_response(f"{response.status} {phrase}", headers)
    return [body]
