from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM objects"

    def ready(self) -> None:
        # The prospect list filters on account fields; prospects cannot import crm.
        from crm.filters import account_filters, custom_object_filters, opportunity_filters
        from prospects.filters import add_filters

        add_filters(account_filters())
        add_filters(opportunity_filters())
        add_filters(custom_object_filters())
