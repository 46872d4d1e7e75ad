import django_tables2 as tables
from django.utils.html import format_html

from crm.models import Account, SalesforceUser


class SalesforceUserTable(tables.Table):
    name = tables.Column(order_by=("name", "pk"))
    username = tables.Column()
    email = tables.EmailColumn()
    is_active = tables.BooleanColumn(verbose_name="Active")
    profile = tables.Column(order_by=("profile__name",))
    role_name = tables.Column(verbose_name="Role")
    user_type = tables.Column(verbose_name="User type")
    portal_user = tables.Column(verbose_name="Portal user", order_by=("portal_user__username",))
    note = tables.Column(verbose_name="Status", orderable=False)

    class Meta:
        model = SalesforceUser
        fields = ()
        sequence = (
            "name",
            "username",
            "email",
            "is_active",
            "profile",
            "role_name",
            "user_type",
            "portal_user",
            "note",
        )
        attrs = {"class": "table table-hover align-middle mb-0"}
        empty_text = "No Salesforce users mirrored yet: sync users now, or wait for the next pull."

    def render_user_type(self, record: SalesforceUser, value: str) -> str:
        if record.is_partner:
            return format_html('<span class="badge text-bg-warning">{}</span>', value)
        return value

    def render_portal_user(self, record: SalesforceUser, value) -> str:
        state = "" if value.is_active else " (inactive)"
        how = "" if record.manages_portal_user else " · linked by email"
        return format_html("{}{}<span class='text-secondary small'>{}</span>", value, state, how)


class AccountTable(tables.Table):
    name = tables.Column(linkify=True)
    industry = tables.Column()
    employees = tables.Column(attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}})
    annual_revenue = tables.Column(
        verbose_name="Revenue", attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}
    )
    billing_city = tables.Column(verbose_name="City")
    billing_country = tables.Column(verbose_name="Country")
    owner = tables.Column(verbose_name="Owner", accessor="owner_name", orderable=False)
    refreshed_at = tables.DateTimeColumn(verbose_name="Refreshed", format="M j, Y H:i")

    class Meta:
        model = Account
        fields = ()
        sequence = (
            "name",
            "industry",
            "employees",
            "annual_revenue",
            "billing_city",
            "billing_country",
            "owner",
            "refreshed_at",
        )
        attrs = {"class": "table table-hover align-middle mb-0"}
        empty_text = "No accounts match these filters."

    def render_name(self, record: Account, value: str) -> str:
        if record.deleted_at:
            return format_html("{} <span class='badge text-bg-secondary'>not visible</span>", value)
        return value

    def render_annual_revenue(self, value) -> str:
        return f"{value:,.0f}"
