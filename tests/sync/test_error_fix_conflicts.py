"""The Sync Errors fix form never puts back a value that changed while it was open (11.1).

Like the prospect edit page, the fix form carries the value it showed: a value left as shown is
not written, and a value changed on both sides is a conflict showing both, saving neither.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import SyncHistory
from sync.engine.outbound import push_prospects
from sync.models import SyncError
from tests.fixtures.html_forms import form_data, with_changes
from tests.prospects.test_edit_conflicts import edit_url, open_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def refused(connector, unique_email):
    """A prospect whose phone the org's validation rule refused: a Sync Error on Phone."""
    prospect = ProspectFactory(
        assigned_user=UserFactory(), email=unique_email(), phone="call me maybe"
    )
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    error = SyncError.objects.open().get(prospect=prospect)
    assert error.field == "Phone"
    return prospect, error


def open_fix_form(client, error) -> dict[str, list[str]]:
    url = reverse("sync:error_detail", args=[error.pk])
    return form_data(client.get(url).content.decode(), testid="fix-form")


def colleague_sets_phone(client, prospect, phone: str) -> None:
    """Another marketer edits the prospect on its own page meanwhile."""
    response = client.post(
        edit_url(prospect), with_changes(open_form(client, prospect), phone=phone)
    )
    assert response.status_code == 302


def test_a_value_changed_meanwhile_is_a_conflict_not_overwritten(refused, marketer_client, client):
    prospect, error = refused
    shown = open_fix_form(marketer_client, error)
    assert shown["value"] == ["call me maybe"]
    colleague_sets_phone(marketer_client, prospect, "222")

    url = reverse("sync:error_detail", args=[error.pk])
    response = marketer_client.post(url, with_changes(shown, value="111", save="1"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "“222”" in html and "“111”" in html and "Nothing was saved" in html
    prospect.refresh_from_db()
    assert prospect.phone == "222"
    # Saving again from the conflict page is a choice made with both values in view.
    again = form_data(html, testid="fix-form")
    assert again["value"] == ["111"]
    marketer_client.post(url, with_changes(again, save="1"))
    prospect.refresh_from_db()
    assert prospect.phone == "111"


def test_a_value_left_as_shown_is_not_written_back(refused, marketer_client):
    prospect, error = refused
    shown = open_fix_form(marketer_client, error)
    colleague_sets_phone(marketer_client, prospect, "222")
    url = reverse("sync:error_detail", args=[error.pk])
    response = marketer_client.post(url, with_changes(shown, save="1"))
    assert response.status_code == 302
    prospect.refresh_from_db()
    assert prospect.phone == "222"


def test_a_fix_names_who_made_it(refused, marketer_client, marketer):
    prospect, error = refused
    shown = open_fix_form(marketer_client, error)
    url = reverse("sync:error_detail", args=[error.pk])
    marketer_client.post(url, with_changes(shown, value="+1 555 0100", save="1"))
    entry = SyncHistory.objects.filter(prospect=prospect, operation="fix").get()
    assert entry.actor == marketer and entry.reason == "error_resync"
    assert entry.changes == [{"field": "phone", "old": "call me maybe", "new": "+1 555 0100"}]


@pytest.mark.skipif(not connection.features.has_select_for_update, reason="SQLite has no row locks")
def test_the_fix_is_applied_under_a_row_lock(refused, marketer_client):
    _, error = refused
    shown = open_fix_form(marketer_client, error)
    url = reverse("sync:error_detail", args=[error.pk])
    with CaptureQueriesContext(connection) as queries:
        marketer_client.post(url, with_changes(shown, value="+1 555 0100", save="1"))
    locked = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert any('"prospects_prospect"' in sql for sql in locked)
