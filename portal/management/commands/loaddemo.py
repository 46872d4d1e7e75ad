from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.demo import DEMO_PROSPECTS, load_demo


class Command(BaseCommand):
    help = "Load the local demo: demo users of both roles and realistic prospects (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--prospects", type=int, default=DEMO_PROSPECTS)

    def handle(self, *args, prospects: int, **options):
        if not settings.DEBUG:
            # The demo logins' passwords are printed in the README.
            raise CommandError(
                "loaddemo is for the local demo only and refuses to run with DEBUG off: "
                "its users have published passwords."
            )
        added = load_demo(prospects=prospects)
        if added:
            self.stdout.write(self.style.SUCCESS(f"Demo loaded: {added} prospects."))
        else:
            self.stdout.write("Demo already loaded.")
