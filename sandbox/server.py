"""Serve the sandbox org over HTTPS with cheroot (threaded, production-grade WSGI server)."""

from pathlib import Path

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from django.conf import settings

from sandbox.app import application
from sandbox.tls import Certificates, ensure_certificates


def certificate_dir() -> Path:
    return Path(settings.BASE_DIR) / "var" / "sandbox"


def make_server(
    host: str, port: int, certs: Certificates | None = None, threads: int = 16
) -> wsgi.Server:
    """A cheroot server for the sandbox app with TLS from the local CA."""
    certs = certs or ensure_certificates(certificate_dir())
    server = wsgi.Server(
        (host, port), application, numthreads=threads, server_name="sandbox.leadbridge.local"
    )
    server.ssl_adapter = BuiltinSSLAdapter(str(certs.server_cert), str(certs.server_key))
    return server
