"""CRM pages: Salesforce users and the profile → role mapping (Sync admins), accounts
(marketers, read-only), and the public invitation page."""

import logging

import django_rq
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from redis.exceptions import RedisError

from core.roles import marketer_required, sync_admin_required
from crm.filters import AccountFilter, SalesforceUserFilter
from crm.forms import AccountSettingsForm, ProfileMappingFormSet
from crm.models import Account, AccountSettings, SalesforceProfile, SalesforceUser
from crm.portal_users import enqueue_invitations, reconcile_all
from crm.tables import AccountTable, SalesforceUserTable
from prospects.models import Prospect

log = logging.getLogger(__name__)
# Enqueued by name: crm sits below sync and does not import it.
SYNC_USERS_JOB = "sync.jobs.sync_users_now"


@method_decorator(sync_admin_required, name="dispatch")
class SalesforceUserListView(SingleTableMixin, FilterView):
    model = SalesforceUser
    table_class = SalesforceUserTable
    filterset_class = SalesforceUserFilter
    template_name = "crm/users.html"
    table_pagination = {"per_page": 50}  # the table paginates; the view must not count twice

    def get_queryset(self):
        return SalesforceUser.objects.select_related("profile", "portal_user")


@sync_admin_required
@require_POST
def users_sync_now(request: HttpRequest) -> HttpResponse:
    try:
        queue = django_rq.get_queue("sync")
        queue.connection.ping()  # Redis down: say so now (the enqueue waits for the commit)
        queue.enqueue(SYNC_USERS_JOB, job_timeout=600)
    except (RedisError, OSError):
        log.warning("could not enqueue the user sync", exc_info=True)
        messages.error(request, "The job queue is unreachable: the user sync was not started.")
    else:
        messages.success(request, "User sync started: this page shows the result in a moment.")
    return redirect("crm:users")


@sync_admin_required
@require_POST
def users_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a portal user the sync created a new set-password link (the old one stops working
    once a password is set; Django's tokens need no storage)."""
    sf_user = get_object_or_404(SalesforceUser, pk=pk, manages_portal_user=True)
    user = sf_user.portal_user
    if user is None or not user.is_active or user.has_usable_password():
        messages.error(request, "Only an active portal user without a password can be invited.")
    elif enqueue_invitations([user.pk]):
        messages.error(request, "The job queue is unreachable: the invitation was not sent.")
    else:
        messages.success(request, f"Invitation sent to {user.email}.")
    return redirect("crm:users")


@sync_admin_required
def profile_mapping(request: HttpRequest) -> HttpResponse:
    """Map each Salesforce profile to a portal role; saving reconciles every portal user."""
    queryset = SalesforceProfile.objects.order_by("name")
    formset = ProfileMappingFormSet(request.POST or None, queryset=queryset)
    if request.method == "POST" and formset.is_valid():
        formset.save()
        report = reconcile_all(invite=enqueue_invitations)
        messages.success(
            request,
            f"Mapping saved: {len(report.created)} portal users created (invited), "
            f"{len(report.updated)} updated, {len(report.deactivated)} deactivated.",
        )
        if report.invitations_failed:
            messages.warning(
                request,
                f"{len(report.invitations_failed)} invitations could not be sent: the job queue "
                "is unreachable. Use *Invite again* on the users page later.",
            )
        return redirect("crm:profiles")
    counts = {
        row["profile"]: row
        for row in SalesforceUser.objects.values("profile")
        .order_by()
        .annotate(users=Count("pk"), active=Count("pk", filter=Q(is_active=True)))
    }
    rows = [(form, counts.get(form.instance.pk, {})) for form in formset]
    return render(request, "crm/profiles.html", {"formset": formset, "rows": rows})


@method_decorator(marketer_required, name="dispatch")
class AccountListView(SingleTableMixin, FilterView):
    model = Account
    table_class = AccountTable
    filterset_class = AccountFilter
    template_name = "crm/accounts.html"
    table_pagination = {"per_page": 50}  # the table paginates; the view must not count twice

    def get_queryset(self):
        return Account.objects.all()

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        page = [row.record for row in table.paginated_rows]
        owners = dict(
            SalesforceUser.objects.filter(sf_id__in={a.owner_sf_id for a in page}).values_list(
                "sf_id", "name"
            )
        )
        for account in page:
            account.owner_name = owners.get(account.owner_sf_id, account.owner_sf_id)
        return table

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        settings = AccountSettings.load()
        context["settings_form"] = AccountSettingsForm(instance=settings)
        context["missing_fields"] = settings.missing_fields
        return context


@marketer_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    owner = SalesforceUser.objects.filter(sf_id=account.owner_sf_id).first()
    prospects = Prospect.objects.filter(crm_account_id=account.sf_id).order_by("last_name", "pk")
    return render(
        request,
        "crm/account_detail.html",
        {
            "account": account,
            "owner": owner,
            "prospects": prospects[:50],
            "prospect_count": prospects.count(),
        },
    )


@sync_admin_required
@require_POST
def account_settings(request: HttpRequest) -> HttpResponse:
    form = AccountSettingsForm(request.POST, instance=AccountSettings.load())
    if form.is_valid():
        form.save()
        messages.success(request, "Account fields saved: the next pull reads them.")
    else:
        messages.error(request, " ".join(form.errors.get("extra_fields", ["Invalid fields."])))
    return redirect("crm:accounts")


class WelcomeView(auth_views.PasswordResetConfirmView):
    """The invitation link a new portal user gets by email: choose a password.

    Public, because the person has no password yet: the signed, single-use token in the URL
    (Django's password-reset token, void once the password is set) is the credential.
    """

    template_name = "crm/welcome.html"
    success_url = reverse_lazy("login")
