"""``manage.py loaddemoorg [--reset]``: load the demo org "Acme" (idempotent) and the CA."""

from django.core.management.base import BaseCommand

from sandbox.demo import load_demo_org
from sandbox.server import certificate_dir
from sandbox.tls import ensure_certificates


class Command(BaseCommand):
    help = "Load the sandbox demo org 'Acme' and make sure var/sandbox/ca.pem exists."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--reset", action="store_true", help="Drop and reload the demo org.")

    def handle(self, *args, reset: bool, **options) -> None:
        certs = ensure_certificates(certificate_dir())
        org = load_demo_org(reset=reset)
        self.stdout.write(f"Demo org {org.name} ({org.pk}) ready; CA bundle {certs.ca}")
