"""``manage.py sandboxctl ACTION [key=value …]``: script the sandbox org (see sandbox/control.py).

Values are JSON when they parse as JSON (``readable=false``, ``length=50``), else strings.
Example: ``manage.py sandboxctl set_sharing sobject=Lead model=Private``.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from sandbox import control
from sandbox.errors import ApiError


def _value(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text


class Command(BaseCommand):
    help = "Run a sandbox org control action: " + ", ".join(sorted(control.ACTIONS))

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=sorted(control.ACTIONS))
        parser.add_argument("params", nargs="*", help="key=value")

    def handle(self, *args, action: str, params: list[str], **options) -> None:
        values = {}
        for item in params:
            key, sep, raw = item.partition("=")
            if not sep:
                raise CommandError(f"{item!r} is not key=value")
            values[key] = _value(raw)
        try:
            result = control.run(action, values)
        except ApiError as error:
            raise CommandError(error.message) from error
        self.stdout.write(json.dumps(result))
