"""``python -m sandbox.testserver``: a throw-away sandbox org for test sessions and benchmarks.

Migrates the ``sandbox`` alias (``SANDBOX_DATABASE_URL``), loads the demo org, serves HTTPS on
a free port with certificates in ``--cert-dir`` and prints ``READY <port>`` once it accepts
connections. The pytest plugin ``tests/fixtures/sandbox.py`` runs it as a subprocess, so the
org's data is committed, visible to every thread, and untouched by pytest-django's transactions.
"""

import argparse
import os
import sys
from pathlib import Path

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from sandbox import trivial
from sandbox.tls import ensure_certificates


def bulk_workers() -> int:
    """How many Bulk API workers the org runs (``SANDBOX_BULK_WORKERS``): at most 7, as each
    has a slot of record ids of its own (sandbox/ids.py), the server slot 0."""
    return min(7, max(1, int(os.environ.get("SANDBOX_BULK_WORKERS", "1"))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--trivial", action="store_true", help="Serve sandbox/trivial.py.")
    args = parser.parse_args()
    if args.trivial:
        serve_trivial(args)
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log: the org serves and bulk-loads at full speed
    from django.core.management import call_command

    # Only now: these import models, which need the app registry set up.
    from sandbox.bulk_jobs import fail_interrupted_jobs
    from sandbox.demo import load_demo_org
    from sandbox.server import make_server
    from sandbox.worker import start_worker_process

    call_command("migrate", database="sandbox", verbosity=0, interactive=False)
    load_demo_org()
    # Salesforce runs an org's Bulk API jobs side by side; SANDBOX_BULK_WORKERS > 1 lets the
    # sandbox do so too (several portal workers pushing at once: tests/bench/test_workers_bench.py).
    root = Path(__file__).resolve().parent.parent
    count = bulk_workers()
    fail_interrupted_jobs()
    workers = [start_worker_process(root, slot=1 + i) for i in range(count)]
    certs = ensure_certificates(Path(args.cert_dir))
    server = make_server(args.host, args.port, certs, args.threads)
    server.prepare()
    sys.stdout.write(f"READY {server.bind_addr[1]}\n")
    sys.stdout.flush()
    try:
        server.serve()
    except KeyboardInterrupt:
        server.stop()
    finally:
        for worker in workers:
            if worker is not None:
                worker.kill()


def serve_trivial(args: argparse.Namespace) -> None:
    """The benchmark baseline: same server and TLS, canned answers, no Django."""
    certs = ensure_certificates(Path(args.cert_dir))
    server = wsgi.Server((args.host, args.port), trivial.application, numthreads=args.threads)
    server.ssl_adapter = BuiltinSSLAdapter(str(certs.server_cert), str(certs.server_key))
    server.prepare()
    sys.stdout.write(f"READY {server.bind_addr[1]}\n")
    sys.stdout.flush()
    server.serve()


if __name__ == "__main__":
    main()
