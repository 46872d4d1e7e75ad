from django.core.management.base import BaseCommand

from portal.demo import DEMO_PROSPECTS, load_demo


class Command(BaseCommand):
    help = "Load the local demo: demo users of both roles and realistic prospects (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--prospects", type=int, default=DEMO_PROSPECTS)

    def handle(self, *args, prospects: int, **options):
        added = load_demo(prospects=prospects)
        if added:
            self.stdout.write(self.style.SUCCESS(f"Demo loaded: {added} prospects."))
        else:
            self.stdout.write("Demo already loaded.")
