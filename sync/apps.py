from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Salesforce sync"

    def ready(self) -> None:
        # Partner and portal users leave the assignment choices while the connector says so.
        from prospects.forms import ASSIGNMENT_EXCLUSIONS
        from sync.engine.users import excluded_partners

        ASSIGNMENT_EXCLUSIONS.append(excluded_partners)
