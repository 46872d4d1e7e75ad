"""``manage.py runsandbox [addr:port]``: serve the sandbox org over HTTPS."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.bulk_jobs import fail_interrupted_jobs
from sandbox.server import certificate_dir, make_server
from sandbox.tls import ensure_certificates
from sandbox.worker import start_worker_process


class Command(BaseCommand):
    help = "Serve the sandbox Salesforce org over HTTPS (default 127.0.0.1:8443)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8443")
        parser.add_argument("--threads", type=int, default=16)
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the bulk job worker (run one yourself).",
        )

    def handle(self, *args, addrport: str, threads: int, no_worker: bool, **options) -> None:
        host, _, port = addrport.rpartition(":")
        if not port.isdigit():
            raise CommandError(f"{addrport!r} is not addr:port")
        settings.DEBUG = False  # no query log: the org is a service, not a page under development
        certs = ensure_certificates(certificate_dir())
        server = make_server(host or "127.0.0.1", int(port), certs, threads)
        self.stdout.write(f"Sandbox org on https://{host or '127.0.0.1'}:{port} (trust {certs.ca})")
        fail_interrupted_jobs()  # a previous run's, before any worker takes a job
        worker = None if no_worker else start_worker_process(Path(settings.BASE_DIR))
        try:
            server.safe_start()
        except KeyboardInterrupt:
            server.stop()
        finally:
            if worker is not None:
                worker.kill()
