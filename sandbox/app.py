"""The sandbox org's WSGI application: parse the request, route it, answer in Salesforce's shape.

Every failure — a bad token, malformed JSON, an unknown resource, a wrong method, an oversized
body, even a bug — leaves as a Salesforce JSON error array, never an HTML page.
"""

import contextlib
import logging
import secrets
import socket
from http import HTTPStatus

from django.db import close_old_connections, connections
from django.db.utils import InterfaceError, OperationalError

from sandbox.errors import ApiError
from sandbox.faults import DropConnection
from sandbox.http import Response, build_request, error_response
from sandbox.routes import dispatch

log = logging.getLogger("sandbox")


def _handle(environ: dict) -> Response:
    try:
        return dispatch(build_request(environ))
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
