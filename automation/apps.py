from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "automation"
    verbose_name = "Automation"

    def ready(self) -> None:
        # The prospect list's bulk actions button; prospects cannot import automation.
        from prospects.list_tools import add_list_tool

        add_list_tool("automation/_bulk_tool.html")
