import os

from django.core.management.base import BaseCommand

from portal.demo import DEMO_LOGINS


class Command(BaseCommand):
    help = "Print the portal URL and the demo logins (for the local demo only)."

    def handle(self, *args, **options):
        port = os.environ.get("WEB_PORT", "8000")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Leadbridge is starting on http://127.0.0.1:{port}/"))
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.role:<11} {login.username} / {login.password}")
        self.stdout.write("Press Ctrl-C to stop every process.\n")
