import django_tables2 as tables
from django.utils.html import format_html

from api.models import ApiKey


class ApiKeyTable(tables.Table):
    name = tables.Column()
    shown = tables.Column(verbose_name="Key", orderable=False)
    created_at = tables.DateTimeColumn(verbose_name="Created")
    last_used_at = tables.DateTimeColumn(verbose_name="Last used", default="Never")
    revoke = tables.TemplateColumn(
        template_name="api/_revoke.html", verbose_name="", orderable=False
    )

    class Meta:
        model = ApiKey
        fields = ["name", "shown", "created_at", "last_used_at"]
        sequence = ["name", "shown", "created_at", "last_used_at", "revoke"]
        attrs = {"class": "table table-sm align-middle", "data-testid": "api-keys"}
        empty_text = "No keys yet."
        orderable = False

    def render_shown(self, value: str) -> str:
        return format_html("<code>{}</code>", value)
