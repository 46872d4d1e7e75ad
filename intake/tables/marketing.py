import django_tables2 as tables
from django.utils.html import format_html

from intake.form_models import Form, FormHandler, LandingPage

ATTRS = {"class": "table table-hover align-middle mb-0"}


class _Active(tables.Column):
    def render(self, value: bool) -> str:
        badge, label = ("text-bg-success", "Active") if value else ("text-bg-secondary", "Off")
        return format_html('<span class="badge {}">{}</span>', badge, label)


class _PublicUrl(tables.Column):
    def render(self, record) -> str:
        url = record.get_public_url()
        return format_html('<code class="small">{}</code>', url)


class FormHandlerTable(tables.Table):
    name = tables.Column(linkify=True)
    public_url = _PublicUrl(verbose_name="Endpoint (POST)", accessor="slug", orderable=False)
    campaign = tables.Column()
    is_active = _Active(verbose_name="State")
    updated_at = tables.DateTimeColumn(verbose_name="Updated", format="M j, Y")

    class Meta:
        model = FormHandler
        fields = ("name", "public_url", "campaign", "is_active", "updated_at")
        attrs = ATTRS
        empty_text = "No form handlers yet."


class FormTable(tables.Table):
    name = tables.Column(linkify=True)
    public_url = _PublicUrl(verbose_name="Embed URL", accessor="slug", orderable=False)
    campaign = tables.Column()
    is_active = _Active(verbose_name="State")
    updated_at = tables.DateTimeColumn(verbose_name="Updated", format="M j, Y")

    class Meta:
        model = Form
        fields = ("name", "public_url", "campaign", "is_active", "updated_at")
        attrs = ATTRS
        empty_text = "No forms yet."


class LandingPageTable(tables.Table):
    name = tables.Column(linkify=True)
    public_url = _PublicUrl(verbose_name="Page", accessor="slug", orderable=False)
    form = tables.Column()
    is_active = _Active(verbose_name="State")
    updated_at = tables.DateTimeColumn(verbose_name="Updated", format="M j, Y")

    class Meta:
        model = LandingPage
        fields = ("name", "public_url", "form", "is_active", "updated_at")
        attrs = ATTRS
        empty_text = "No landing pages yet."
