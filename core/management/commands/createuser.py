import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.roles import ROLE_NAMES, create_user

PASSWORD_VARIABLE = "LEADBRIDGE_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create a portal user with a role (marketer or sync-admin). The password comes from "
        f"${PASSWORD_VARIABLE} when set, else it is asked for twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help="marketer or sync-admin")
        parser.add_argument("--email", default="")

    def handle(self, *args, username: str, role: str, email: str, **options):
        if role not in ROLE_NAMES:
            raise CommandError(f"--role must be one of {', '.join(ROLE_NAMES)}, not {role!r}.")
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        password = self._password()
        try:
            validate_password(password, User(username=username, email=email))
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from exc
        create_user(username=username, email=email, password=password, role=ROLE_NAMES[role])
        self.stdout.write(self.style.SUCCESS(f"Created {username} ({ROLE_NAMES[role]})."))

    def _password(self) -> str:
        if password := os.environ.get(PASSWORD_VARIABLE):
            return password
        try:
            first = getpass.getpass("Password: ")
            second = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt) as exc:
            raise CommandError(f"No password: type it, or set ${PASSWORD_VARIABLE}.") from exc
        if first != second:
            raise CommandError("The two passwords did not match; nobody was created.")
        return first
