"""Admin registrations of core, and the read-only admin every app's bookkeeping uses."""

from django.contrib import admin
from django.http import HttpRequest

from core.models import Heartbeat, Task


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the portal's own code writes (sync bookkeeping, history, progress): the admin shows
    them and changes none, so every change goes through the code that checks and records it."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("kind", "state", "done", "failed", "total", "created_by", "created_at")
    list_filter = ("kind", "state")


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("name", "beat_at", "count")
