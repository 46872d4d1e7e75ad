from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.models import create_key
from core.roles import is_marketer


class Command(BaseCommand):
    help = (
        "Make an API key for USERNAME and print it (once: only its hash is kept). The key acts "
        "with the user's role."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="Command line", help="What will use the key.")

    def handle(self, *args, username: str, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"{username} is deactivated: a key of theirs would not work.")
        if not is_marketer(user):
            raise CommandError(f"{username} has no role (Marketer or Sync admin): give one first.")
        _row, key = create_key(user=user, name=name)
        self.stdout.write(key)
