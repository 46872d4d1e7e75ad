"""Django's staff and superuser flags never stand in for a role (issue 11, item 8)."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import SyncQueueItem, SyncReason
from tests.conftest import ensure_roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_marketer(client, marketer):
    marketer.is_staff = True
    marketer.save()
    client.force_login(marketer)
    return client


@pytest.fixture
def superuser_without_role(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def superuser_admin(client):
    """A Sync admin who is also a superuser: sees every model in the Django admin."""
    ensure_roles()
    user = UserFactory(username="root-admin", is_staff=True, is_superuser=True)
    user.groups.add(Group.objects.get(name="Sync admin"))
    client.force_login(user)
    return client


def test_a_staff_marketer_gets_403_from_the_django_admin_and_the_rq_dashboard(staff_marketer):
    prospect = ProspectFactory()
    assert staff_marketer.get(reverse("admin:index")).status_code == 403
    change = reverse("admin:prospects_prospect_change", args=[prospect.pk])
    assert staff_marketer.get(change).status_code == 403
    assert staff_marketer.get("/admin/django-rq/").status_code == 403
    assert staff_marketer.get("/admin/django-rq/stats.json").status_code in (403, 404)


def _post_change_form(client, url: str, **changes) -> None:
    """Submit the admin's change form as the page rendered it, with ``changes`` applied."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        data[name] = field.prepare_value(value) if value is not None else ""
    client.post(url, {**{k: v for k, v in data.items() if v is not False}, **changes})


def test_a_staff_marketer_cannot_change_crm_ids_in_the_admin(client, marketer):
    """Today's hole, end to end: the change form of a staff marketer saves a new CRM id."""
    prospect = ProspectFactory(crm_lead_id="00Q000000000001AAA")
    change = reverse("admin:prospects_prospect_change", args=[prospect.pk])
    marketer.is_staff = True
    marketer.save()
    client.force_login(marketer)
    if client.get(change).status_code == 200:
        _post_change_form(client, change, crm_lead_id="00Q000000000666AAA")
    prospect.refresh_from_db()
    assert prospect.crm_lead_id == "00Q000000000001AAA"


def test_a_superuser_without_a_role_gets_403_everywhere(superuser_without_role):
    for url in (reverse("prospects:list"), reverse("sync:connector"), reverse("admin:index")):
        assert superuser_without_role.get(url).status_code == 403, url
    assert superuser_without_role.get("/admin/django-rq/").status_code == 403


def test_anonymous_visitors_of_the_admin_go_to_the_portal_login(client):
    for url in (reverse("admin:index"), "/admin/django-rq/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url
    response = client.get(reverse("admin:login") + "?next=/admin/")
    assert response["Location"] == reverse("login") + "?next=/admin/"


def test_a_sync_admin_opens_the_admin_and_the_rq_dashboard(admin_client_):
    assert admin_client_.get(reverse("admin:index")).status_code == 200
    assert admin_client_.get("/admin/django-rq/").status_code == 200


def test_crm_bookkeeping_is_read_only_in_the_prospect_admin(superuser_admin):
    prospect = ProspectFactory(crm_lead_id="00Q000000000001AAA", crm_owner_id="005000000000001AAA")
    change = reverse("admin:prospects_prospect_change", args=[prospect.pk])
    page = superuser_admin.get(change)
    assert page.status_code == 200
    form = page.context["adminform"].form
    for name in (
        "crm_lead_id",
        "crm_owner_id",
        "sync_status",
        "crm_modified_at",
        "field_changed_at",
    ):
        assert name not in form.fields, name
    assert prospect.crm_lead_id in page.content.decode()  # shown, not editable


@pytest.mark.parametrize(
    "model",
    [
        "prospects_syncqueueitem",
        "sync_synccursor",
        "prospects_synchistory",
        "sync_syncerror",
        "sync_connectorchange",
        "sync_connector",
    ],
)
def test_sync_bookkeeping_has_no_add_change_or_delete_in_the_admin(superuser_admin, model):
    assert superuser_admin.get(reverse(f"admin:{model}_changelist")).status_code == 200
    assert superuser_admin.get(reverse(f"admin:{model}_add")).status_code == 403


def test_a_queue_item_cannot_be_edited_or_deleted_in_the_admin(superuser_admin):
    prospect = ProspectFactory()
    item = SyncQueueItem.objects.create(
        prospect=prospect, reason=SyncReason.FIELD_UPDATE, requested_at=timezone.now()
    )
    change = reverse("admin:prospects_syncqueueitem_change", args=[item.pk])
    assert superuser_admin.get(change).status_code == 200  # viewable
    superuser_admin.post(change, {"prospect": prospect.pk, "reason": "x", "attempts": 9})
    delete = reverse("admin:prospects_syncqueueitem_delete", args=[item.pk])
    assert superuser_admin.post(delete, {"post": "yes"}).status_code == 403
    item.refresh_from_db()
    assert item.attempts == 0


def test_a_prospect_is_changed_on_its_own_page_not_in_the_admin(superuser_admin):
    """The admin's change form would save every field as it showed them (reverting a pull that
    landed meanwhile), name nobody and ask for no sync: it shows prospects, it does not edit."""
    prospect = ProspectFactory(phone="111")
    change = reverse("admin:prospects_prospect_change", args=[prospect.pk])
    assert superuser_admin.get(change).status_code == 200  # viewable
    superuser_admin.post(change, {"phone": "999", "email": prospect.email})
    prospect.refresh_from_db()
    assert prospect.phone == "111"
    assert superuser_admin.get(reverse("admin:prospects_prospect_add")).status_code == 403
