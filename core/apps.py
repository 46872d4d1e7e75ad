from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: roles and their permissions, long-task progress, heartbeats."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core import sqlite

        sqlite.connect()
